//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Connections to PostgreSQL by default. Measured on a 2-core machine (docs/PERFORMANCE.md),
/// 8 to 12 wrote faster than 20: past the database's cores, more connections only queue.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Opens the database named by `url`. SQLite files are created when missing and
/// run in WAL mode with foreign keys enforced.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_MAX_CONNECTIONS).await
}

/// Like [`connect`], with at most `max_connections` to PostgreSQL (SQLite always has one).
pub async fn connect_with(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        // One connection: SQLite serialises writers anyway, and a single
        // connection rules out "database is locked" on upgrading transactions.
        opts.max_connections(1).min_connections(1);
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    } else {
        opts.max_connections(max_connections.max(1))
            .min_connections(1);
    }
    Database::connect(opts).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Human name of the backend, as `/health` reports it.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => "sqlite",
        DatabaseBackend::Postgres => "postgresql",
        _ => "other",
    }
}
