//! What every request handler shares: data only (settings, forms, policy, the login limiter
//! and the import gate); the code that uses it lives in the domain modules.

pub mod gate;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{policy::Policy, throttle::LoginLimiter},
    clock::Clock,
    config::Settings,
    forms::Registry,
};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Form definitions.
    pub forms: Arc<Registry>,
    /// Source of "now".
    pub clock: Arc<dyn Clock>,
    /// Run-time settings.
    pub settings: Arc<Settings>,
    /// Who may call which operation.
    pub policy: Arc<Policy>,
    /// Failed-login memory.
    pub limiter: Arc<LoginLimiter>,
    /// Hash verified for unknown users, so they cost as much time as known ones.
    pub decoy_hash: Arc<String>,
    /// Imports running now (at most one per unit, two in all).
    pub imports: Arc<gate::ImportGate>,
}
