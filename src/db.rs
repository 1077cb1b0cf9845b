//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement, TransactionTrait,
    sqlx,
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
        // No JIT compilation: the service's queries are short, and PostgreSQL's JIT, started by
        // a plan's estimated cost alone, spent 160 ms compiling a board query that runs in 40
        // (docs/PERFORMANCE.md, "Boards by node").
        opts.map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
        // Nagle's algorithm off on each new connection (see `set_tcp_nodelay_to`).
        if let Some(port) = url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .ok()
            .map(|o| o.get_port())
        {
            opts.map_sqlx_postgres_pool_opts(move |p| {
                p.after_connect(move |_, _| {
                    Box::pin(async move {
                        set_tcp_nodelay_to(port);
                        Ok(())
                    })
                })
            });
        }
    }
    Database::connect(opts).await
}

/// The TCP sockets of this process whose addresses pass `wanted(local port, peer port)`
/// (Linux: read from `/proc/self/fd`; elsewhere none).
fn tcp_sockets(wanted: impl Fn(u16, u16) -> bool) -> Vec<i32> {
    #[cfg(target_os = "linux")]
    {
        let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()))
            .filter(|fd| {
                let port = |f| tcp_port(*fd, f);
                matches!((port(libc::getsockname), port(libc::getpeername)),
                    (Some(local), Some(peer)) if wanted(local, peer))
            })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = wanted;
        Vec::new()
    }
}

#[cfg(target_os = "linux")]
type SockName = unsafe extern "C" fn(i32, *mut libc::sockaddr, *mut libc::socklen_t) -> i32;

/// The port of descriptor `fd`'s own address (`getsockname`) or its peer's (`getpeername`),
/// if it is a connected IPv4 or IPv6 socket.
#[cfg(target_os = "linux")]
fn tcp_port(fd: i32, name: SockName) -> Option<u16> {
    // SAFETY: a zeroed sockaddr_storage is a valid value of it; getsockname and getpeername
    // write at most `len` bytes into it and fail (ENOTSOCK, ENOTCONN, EBADF) on anything but a
    // connected socket; the family read then says which address type it holds.
    unsafe {
        let mut addr: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if name(fd, (&raw mut addr).cast(), &mut len) != 0 {
            return None;
        }
        match i32::from(addr.ss_family) {
            libc::AF_INET => Some(u16::from_be(
                (*(&raw const addr).cast::<libc::sockaddr_in>()).sin_port,
            )),
            libc::AF_INET6 => Some(u16::from_be(
                (*(&raw const addr).cast::<libc::sockaddr_in6>()).sin6_port,
            )),
            _ => None,
        }
    }
}

/// Turns Nagle's algorithm off (`TCP_NODELAY`) on every TCP connection of this process to
/// `port`, as libpq does for its own. sqlx 0.9 leaves it on and gives no access to its socket:
/// a message written in two pieces then waits for the server's delayed acknowledgement — a
/// `COPY` (its data, then `CopyDone`) took 40 ms more each, and an import of 100,000 rows 22.7 s
/// instead of 8.9 s over a Unix socket (docs/PERFORMANCE.md, "Exports and imports"). Called for
/// each new connection of a pool; a socket that has it already is left as it is.
fn set_tcp_nodelay_to(port: u16) {
    for fd in tcp_sockets(|_, peer| peer == port) {
        let one: libc::c_int = 1;
        // SAFETY: setsockopt reads one c_int from `one`; on a descriptor closed or reused
        // meanwhile it fails or sets the same harmless option on another TCP socket.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&raw const one).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// Whether the TCP connection of this process from local port `local` has Nagle's algorithm
/// off (`None`: no such connection). A PostgreSQL connection's local port is what the server
/// calls `inet_client_port()`.
pub fn tcp_nodelay_from(local: u16) -> Option<bool> {
    let fd = *tcp_sockets(|l, _| l == local).first()?;
    let mut on: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `on`.
    let got = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw mut on).cast(),
            &mut len,
        )
    };
    Some(got == 0 && on != 0)
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

/// A write transaction that can also bulk-load: sea-orm's own on SQLite; on PostgreSQL one held
/// here on a connection of the pool, so that `COPY … FROM STDIN` ([`WriteTx::copy_in`]) runs
/// inside it, beside every statement sea-orm sends through it ([`ConnectionTrait`]). Dropped
/// without [`WriteTx::commit`], it is rolled back, as sea-orm's is.
pub enum WriteTx {
    /// sea-orm's transaction (SQLite).
    Orm(DatabaseTransaction),
    /// A transaction on a PostgreSQL connection of the pool.
    Pg(tokio::sync::Mutex<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl WriteTx {
    /// Begins a transaction on `db`.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let tx = db
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(conn_err)?;
                Ok(Self::Pg(tokio::sync::Mutex::new(tx)))
            }
            _ => Ok(Self::Orm(db.begin().await?)),
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(tx) => tx.commit().await,
            Self::Pg(tx) => tx.into_inner().commit().await.map_err(exec_err),
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(tx) => tx.rollback().await,
            Self::Pg(tx) => tx.into_inner().rollback().await.map_err(exec_err),
        }
    }

    /// Whether [`WriteTx::copy_in`] is available (PostgreSQL).
    pub fn can_copy(&self) -> bool {
        matches!(self, Self::Pg(_))
    }

    /// `COPY table (columns) FROM STDIN` of `data`, rows in PostgreSQL's text format; the number
    /// of rows copied. An error on SQLite, which has no `COPY` (see [`WriteTx::can_copy`]).
    pub async fn copy_in(&self, table: &str, columns: &[&str], data: &[u8]) -> Result<u64, DbErr> {
        let Self::Pg(tx) = self else {
            return Err(DbErr::Custom("COPY needs PostgreSQL".into()));
        };
        let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let sql = format!("COPY \"{table}\" ({}) FROM STDIN", quoted.join(", "));
        let mut tx = tx.lock().await;
        let mut copy = tx.copy_in_raw(&sql).await.map_err(exec_err)?;
        copy.send(data).await.map_err(exec_err)?;
        copy.finish().await.map_err(exec_err)
    }
}

fn pg_query(
    stmt: &Statement,
) -> sqlx::query::Query<'_, sqlx::Postgres, sea_query_sqlx::SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(
        sqlx::AssertSqlSafe(stmt.sql.as_str()),
        sea_query_sqlx::SqlxValues(values),
    )
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Orm(tx) => tx.get_database_backend(),
            Self::Pg(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(tx) => tx.execute_raw(stmt).await,
            Self::Pg(tx) => {
                let mut tx = tx.lock().await;
                pg_query(&stmt)
                    .execute(&mut **tx)
                    .await
                    .map(ExecResult::from)
                    .map_err(exec_err)
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(tx) => tx.execute_unprepared(sql).await,
            Self::Pg(tx) => {
                let mut tx = tx.lock().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut **tx)
                    .await
                    .map(ExecResult::from)
                    .map_err(exec_err)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Orm(tx) => tx.query_one_raw(stmt).await,
            Self::Pg(tx) => {
                let mut tx = tx.lock().await;
                pg_query(&stmt)
                    .fetch_optional(&mut **tx)
                    .await
                    .map(|row| row.map(QueryResult::from))
                    .map_err(query_err)
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Orm(tx) => tx.query_all_raw(stmt).await,
            Self::Pg(tx) => {
                let mut tx = tx.lock().await;
                pg_query(&stmt)
                    .fetch_all(&mut **tx)
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                    .map_err(query_err)
            }
        }
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e.into()))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))
}
