//! `kiemke backup FILE` and `kiemke restore FILE [--force]`.
//!
//! - **SQLite**: `VACUUM INTO FILE` writes a consistent, compacted copy, even while the
//!   service runs (it is one read transaction). Restoring checks that FILE is a kiemke
//!   database (its tables and `PRAGMA quick_check`), refuses to replace a database that
//!   holds data unless `--force`, then copies FILE next to the database and renames it into
//!   place (removing the old `-wal` and `-shm` files). Stop the service before restoring.
//! - **PostgreSQL**: `pg_dump --format=custom` and `pg_restore --clean --if-exists
//!   --no-owner --single-transaction`, run against `DATABASE_URL`; both must be on `PATH`
//!   (Debian package `postgresql-client`, of the server's major version or newer).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use clap::{Args, Subcommand};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    Statement,
};

/// `kiemke backup` and `kiemke restore` (flattened into the top-level commands).
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write a consistent copy of the database to FILE (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom).
    Backup(BackupArgs),
    /// Replace the database with the backup in FILE (stop the service first).
    Restore(RestoreArgs),
}

/// Options of `kiemke backup`.
#[derive(Debug, Args, Clone)]
pub struct BackupArgs {
    /// File to write; it must not exist yet.
    pub file: PathBuf,
}

/// Options of `kiemke restore`.
#[derive(Debug, Args, Clone)]
pub struct RestoreArgs {
    /// Backup made by `kiemke backup`.
    pub file: PathBuf,
    /// Replace the database even if it holds data.
    #[arg(long)]
    pub force: bool,
}

/// Row counts of a kiemke database, to say what was backed up or restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Units.
    pub units: i64,
    /// Assets.
    pub assets: i64,
    /// Audit events.
    pub audit_events: i64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} units, {} assets, {} audit events",
            self.units, self.assets, self.audit_events
        )
    }
}

/// Tables every kiemke database has; a file without them is not a kiemke backup.
const REQUIRED_TABLES: &[&str] = &[
    "seaql_migrations",
    "units",
    "campaigns",
    "reports",
    "assets",
    "users",
    "audit_events",
];

/// Runs one of the commands and returns the line to print.
pub async fn run(database_url: &str, cmd: &BackupCommand) -> Result<String, String> {
    match cmd {
        BackupCommand::Backup(a) => {
            let counts = backup(database_url, &a.file).await?;
            Ok(format!("backed up to {}: {counts}", a.file.display()))
        }
        BackupCommand::Restore(a) => {
            let counts = restore(database_url, &a.file, a.force).await?;
            Ok(format!("restored from {}: {counts}", a.file.display()))
        }
    }
}

/// Writes a backup of the database at `database_url` to `file` (which must not exist).
pub async fn backup(database_url: &str, file: &Path) -> Result<Counts, String> {
    if file.exists() {
        return Err(format!(
            "{} already exists; choose a new file name",
            file.display()
        ));
    }
    match sqlite_path(database_url) {
        Some(path) => {
            let path = path?;
            if !path.is_file() {
                return Err(format!("no SQLite database at {}", path.display()));
            }
            let db = open(database_url).await?;
            check_kiemke(&db).await?;
            let target = file.to_str().ok_or("the backup file name must be UTF-8")?;
            db.execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
                .await
                .map_err(|e| format!("VACUUM INTO {}: {e}", file.display()))?;
            db.close().await.ok();
            let copy = open_sqlite_file(file).await?;
            let counts = verify(&copy).await;
            copy.close().await.ok();
            counts
        }
        None => {
            let db = open(database_url).await?;
            check_kiemke(&db).await?;
            let counts = counts(&db).await?;
            db.close().await.ok();
            let file_arg = file.display().to_string();
            tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--file",
                    &file_arg,
                    "--dbname",
                    database_url,
                ],
            )
            .await?;
            Ok(counts)
        }
    }
}

/// Replaces the database at `database_url` with the backup in `file`.
pub async fn restore(database_url: &str, file: &Path, force: bool) -> Result<Counts, String> {
    if !file.is_file() {
        return Err(format!("no backup file at {}", file.display()));
    }
    match sqlite_path(database_url) {
        Some(path) => restore_sqlite(database_url, &path?, file, force).await,
        None => restore_postgres(database_url, file, force).await,
    }
}

async fn restore_sqlite(
    database_url: &str,
    target: &Path,
    file: &Path,
    force: bool,
) -> Result<Counts, String> {
    let backup = open_sqlite_file(file).await?;
    let counts = verify(&backup).await;
    backup.close().await.ok();
    let counts = counts.map_err(|e| format!("{} is not a usable backup: {e}", file.display()))?;
    if target.is_file() {
        let db = open(database_url).await?;
        let empty = is_empty(&db).await;
        db.close().await.ok();
        if !empty? && !force {
            return Err(format!(
                "{} holds data; restore into an empty database or pass --force to replace it",
                target.display()
            ));
        }
    }
    // Copy next to the target, then rename: the database is never half-written.
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(".restoring");
    let tmp = PathBuf::from(tmp);
    std::fs::copy(file, &tmp).map_err(|e| format!("copy to {}: {e}", tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("sync {}: {e}", tmp.display()))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(&side)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("remove {}: {e}", Path::new(&side).display())),
        }
    }
    std::fs::rename(&tmp, target)
        .map_err(|e| format!("rename {} to {}: {e}", tmp.display(), target.display()))?;
    Ok(counts)
}

async fn restore_postgres(database_url: &str, file: &Path, force: bool) -> Result<Counts, String> {
    let file_arg = file.display().to_string();
    let list = tool("pg_restore", &["--list", &file_arg]).await?;
    let missing: Vec<&str> = REQUIRED_TABLES
        .iter()
        .copied()
        .filter(|t| {
            !list
                .lines()
                .any(|l| l.contains(&format!(" TABLE public {t} ")))
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} is not a kiemke backup (no table {})",
            file.display(),
            missing.join(", ")
        ));
    }
    let db = open(database_url).await?;
    let empty = is_empty(&db).await;
    db.close().await.ok();
    if !empty? && !force {
        return Err(
            "the target database holds data; restore into an empty database or pass --force to replace it"
                .into(),
        );
    }
    tool(
        "pg_restore",
        &[
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            database_url,
            &file_arg,
        ],
    )
    .await?;
    let db = open(database_url).await?;
    let counts = verify(&db).await;
    db.close().await.ok();
    counts
}

/// The file of a SQLite URL (`sqlite://FILE?…`, `sqlite:FILE`), `None` for other databases.
fn sqlite_path(url: &str) -> Option<Result<PathBuf, String>> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    Some(if path.is_empty() || path == ":memory:" {
        Err("an in-memory SQLite database cannot be backed up or restored".into())
    } else {
        Ok(PathBuf::from(path))
    })
}

async fn open(url: &str) -> Result<DatabaseConnection, String> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5));
    Database::connect(opts)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))
}

/// Opens a SQLite file read-only (a backup is checked, never changed).
async fn open_sqlite_file(file: &Path) -> Result<DatabaseConnection, String> {
    open(&format!("sqlite://{}?mode=ro", file.display())).await
}

async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect()
}

async fn check_kiemke(db: &DatabaseConnection) -> Result<(), String> {
    let have = tables(db).await.map_err(|e| e.to_string())?;
    let missing: Vec<&str> = REQUIRED_TABLES
        .iter()
        .copied()
        .filter(|t| !have.iter().any(|h| h == t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not a kiemke database (no table {})",
            missing.join(", ")
        ))
    }
}

/// Whether no table (other than the migration log) holds a row.
async fn is_empty(db: &DatabaseConnection) -> Result<bool, String> {
    for t in tables(db).await.map_err(|e| e.to_string())? {
        if t == "seaql_migrations" {
            continue;
        }
        let sql = format!(
            "SELECT 1 AS one FROM \"{}\" LIMIT 1",
            t.replace('"', "\"\"")
        );
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .map_err(|e| e.to_string())?;
        if row.is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn count(db: &DatabaseConnection, table: &str) -> Result<i64, String> {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("COUNT returned no row")?;
    row.try_get::<i64>("", "n").map_err(|e| e.to_string())
}

async fn counts(db: &DatabaseConnection) -> Result<Counts, String> {
    Ok(Counts {
        units: count(db, "units").await?,
        assets: count(db, "assets").await?,
        audit_events: count(db, "audit_events").await?,
    })
}

/// Checks a database is an intact kiemke database and counts its rows.
async fn verify(db: &DatabaseConnection) -> Result<Counts, String> {
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA quick_check",
            ))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("quick_check returned no row")?;
        let verdict: String = row.try_get_by_index(0).map_err(|e| e.to_string())?;
        if verdict != "ok" {
            return Err(format!("integrity check failed: {verdict}"));
        }
    }
    check_kiemke(db).await?;
    counts(db).await
}

/// Splits the password out of a `postgres://user:password@host/db` URL, so that it travels
/// in `PGPASSWORD` rather than on a command line that `ps` shows.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool, returning its standard output. An argument that is a
/// database URL loses its password to `PGPASSWORD`.
async fn tool(program: &'static str, args: &[&str]) -> Result<String, String> {
    let mut password = None;
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.starts_with("postgres://") || a.starts_with("postgresql://") {
                let (url, pw) = split_password(a);
                password = pw.or(password.take());
                url
            } else {
                a.to_string()
            }
        })
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(program);
        cmd.args(&args);
        if let Some(pw) = password {
            cmd.env("PGPASSWORD", pw);
        }
        cmd.output()
    })
    .await
    .map_err(|e| e.to_string())?;
    match out {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => Err(format!(
            "{program} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{program} is not on PATH; install the PostgreSQL client tools (Debian: postgresql-client)"
        )),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_leaves_the_url_for_pgpassword() {
        assert_eq!(
            split_password("postgres://kiemke:p%40ss:w@db:5432/kiemke?sslmode=disable"),
            (
                "postgres://kiemke@db:5432/kiemke?sslmode=disable".to_string(),
                Some("p@ss:w".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://postgres@127.0.0.1:5432/x".to_string(), None)
        );
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/k.db?mode=rwc"),
            Some(Ok(PathBuf::from("/tmp/k.db")))
        );
        assert_eq!(
            sqlite_path("sqlite://kiemke.db?mode=rwc"),
            Some(Ok(PathBuf::from("kiemke.db")))
        );
        assert!(sqlite_path("sqlite::memory:").is_some_and(|r| r.is_err()));
        assert_eq!(sqlite_path("postgres://x@h/db"), None);
    }
}
