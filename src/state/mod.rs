//! What every request handler shares: data only (settings, forms, policy, the login limiter
//! and the import gate); the code that uses it lives in the domain modules.

pub mod gate;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::AtomicU64},
};

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
    /// The read replica (`KIEMKE_READ_DATABASE_URL`), when there is one; [`crate::replica`]
    /// decides which reads go there.
    pub replica: Option<Arc<Replica>>,
}

/// A hot standby's pool and what is known of its lag. WAL positions are bytes from `0/0`.
pub struct Replica {
    /// Read-only pool to the standby.
    pub db: DatabaseConnection,
    /// The primary's WAL position when the service started: reads wait for the standby to
    /// pass it, so nothing written before the start is read stale.
    pub floor: u64,
    /// The highest replay position seen on the standby (it only grows).
    pub replayed: AtomicU64,
    /// Per user id, the primary's WAL position after that user's last write.
    pub written: Mutex<HashMap<i64, u64>>,
}

impl Replica {
    /// A standby reached through `db`, with nothing replayed seen yet.
    pub fn new(db: DatabaseConnection, floor: u64) -> Self {
        Replica {
            db,
            floor,
            replayed: AtomicU64::new(0),
            written: Mutex::new(HashMap::new()),
        }
    }
}
