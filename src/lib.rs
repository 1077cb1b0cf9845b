//! kiemke — the public-asset inventory service (Tổng kiểm kê tài sản công).
//!
//! Layout, top down (docs/ARCHITECTURE.md; no import cycles between these modules, checked by
//! `tests/api/architecture.rs`): [`cli`] · [`app`] (the API and the web pages composed) and
//! [`tools`] · [`api`] and [`web`] (thin HTTP handlers) · [`access`] · [`workbooks`] (xlsx and
//! CSV in the layouts the form definitions describe) · [`replica`] (which pool a read uses) · domain modules ([`progress`],
//! [`registrations`], [`assets`], [`reports`], [`campaigns`], [`units`], [`users`],
//! [`sessions`], [`audit`]) · [`state`] · [`forms`] (definitions as data) and [`auth`] ·
//! [`entities`] (generated table shapes) · [`error`], [`clock`], [`db`] (SQLite/PostgreSQL).

pub mod access;
pub mod api;
pub mod app;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod forms;
pub mod numfmt;
pub mod pagination;
pub mod progress;
pub mod registrations;
pub mod replica;
pub mod reports;
pub mod search;
pub mod sessions;
pub mod shard;
pub mod state;
pub mod tools;
pub mod tree;
pub mod units;
pub mod users;
pub mod web;
pub mod workbooks;

// The tools' old paths (`kiemke::generate`, `kiemke::demo`, `kiemke::backup`), used by the
// benches and the tests.
pub use tools::{backup, demo, generate};

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{password, throttle::LoginLimiter},
    clock::Clock,
    config::{ARGON2_MIN_MEMORY_KIB, Settings},
    forms::Registry,
    state::AppState,
};

/// Builds the shared state; fails when the API's access policy is incomplete.
pub fn build_state(
    db: DatabaseConnection,
    forms: Arc<Registry>,
    clock: Arc<dyn Clock>,
    settings: Settings,
) -> Result<AppState, String> {
    if settings.argon2_memory_kib < ARGON2_MIN_MEMORY_KIB && !settings.insecure_argon2_for_tests {
        return Err(format!(
            "KIEMKE_ARGON2_MEMORY_KIB={} is below the OWASP minimum of {} KiB for argon2id; \
             raise it (KIEMKE_INSECURE_ARGON2_FOR_TESTS=1 allows it in tests only)",
            settings.argon2_memory_kib, ARGON2_MIN_MEMORY_KIB
        ));
    }
    let policy = api::policy()?;
    let decoy = password::decoy(settings.argon2_memory_kib);
    Ok(AppState {
        db,
        forms,
        clock,
        settings: Arc::new(settings),
        policy: Arc::new(policy),
        limiter: Arc::new(LoginLimiter::default()),
        decoy_hash: Arc::new(decoy),
        imports: Arc::default(),
        replica: None,
    })
}
