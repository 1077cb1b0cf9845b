//! Issue 8: `kiemke backup` and `kiemke restore` bring back every row of every table.
//! The commands run as the real binary; the comparison reads the database directly.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use kiemke::{build_state, clock::FixedClock, db, forms::Registry};
use sea_orm::{
    ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, FromQueryResult, JsonValue,
    Statement,
};

use crate::support::{
    ADMIN_PASSWORD, Backend, DEMO_PASSWORD, TestApp, create_database, default_now, drop_database,
    require_program, test_settings,
};

/// Every table of the database, its rows as JSON, sorted.
async fn dump(db: &DatabaseConnection) -> BTreeMap<String, Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let names: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("tables")
        .iter()
        .map(|r| r.try_get::<String>("", "name").expect("name"))
        .collect();
    let mut out = BTreeMap::new();
    for t in names {
        let rows = JsonValue::find_by_statement(Statement::from_string(
            backend,
            format!("SELECT * FROM \"{t}\""),
        ))
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("read {t}: {e}"));
        let mut rows: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        rows.sort();
        out.insert(t, rows);
    }
    out
}

/// Runs `kiemke <args>` against `url`; returns (success, stdout + stderr).
fn kiemke(url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiemke"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kiemke");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The demo ward with its admin, in the database at `url`; returns every row.
async fn demo_rows(url: &str) -> BTreeMap<String, Vec<String>> {
    let conn = db::connect(url).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let state = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(FixedClock::new(default_now())),
        test_settings(),
    )
    .expect("state");
    kiemke::users::bootstrap_admin(&state, Some(ADMIN_PASSWORD.into()))
        .await
        .expect("admin");
    kiemke::demo::load(&state, Some(DEMO_PASSWORD.into()))
        .await
        .expect("demo");
    let rows = dump(&conn).await;
    conn.close().await.ok();
    rows
}

async fn rows_at(url: &str) -> BTreeMap<String, Vec<String>> {
    let conn = db::connect(url).await.expect("connect");
    let rows = dump(&conn).await;
    conn.close().await.ok();
    rows
}

fn assert_same(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (t, rows) in before {
        assert_eq!(rows, &after[t], "table {t}, row by row");
    }
    assert!(
        before["assets"].len() > 50,
        "the demo has assets to compare"
    );
}

/// The restored database serves: a new unit gets a fresh id (the sequences came back too).
async fn takes_new_rows(url: &str, backend: Backend) {
    let (ok, out) = kiemke(url, &["migrate"]);
    assert!(ok, "{out}");
    let conn = db::connect(url).await.expect("connect");
    let clock = FixedClock::new(default_now());
    let state = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(clock.clone()),
        test_settings(),
    )
    .expect("state");
    let app = TestApp {
        router: kiemke::app::app(state.clone()),
        state,
        clock,
        backend,
    };
    let token = app.login("admin", ADMIN_PASSWORD).await;
    app.call("POST", "/api/v1/units")
        .token(&token)
        .json(&serde_json::json!({"code": "1999999", "name": "Đơn vị mới", "kind": "other"}))
        .send()
        .await
        .expect(201);
    conn.close().await.ok();
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "kiemke-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ))
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

#[tokio::test]
async fn a_sqlite_backup_restores_every_row_of_every_table() {
    let (url, resource) = create_database(Backend::Sqlite).await.expect("sqlite");
    let db_file = PathBuf::from(
        url.trim_start_matches("sqlite://")
            .split('?')
            .next()
            .expect("path"),
    );
    let before = demo_rows(&url).await;
    let file = scratch("backup.db");
    let (ok, out) = kiemke(&url, &["backup", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert!(out.contains("16 units"), "{out}");
    let (ok, out) = kiemke(&url, &["backup", file.to_str().expect("utf-8")]);
    assert!(
        !ok && out.contains("already exists"),
        "never overwrites: {out}"
    );

    // The database is lost.
    remove_sqlite(&db_file);
    // A file that is not a kiemke backup is refused, and nothing is written.
    let junk = scratch("junk.db");
    std::fs::write(&junk, b"not a database at all").expect("junk");
    let (ok, out) = kiemke(&url, &["restore", junk.to_str().expect("utf-8")]);
    assert!(!ok, "{out}");
    assert!(!db_file.exists(), "a refused restore leaves nothing behind");

    let (ok, out) = kiemke(&url, &["restore", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert_same(&before, &rows_at(&url).await);

    // A database that holds data is replaced only with --force.
    let (ok, out) = kiemke(&url, &["restore", file.to_str().expect("utf-8")]);
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = kiemke(&url, &["restore", "--force", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert_same(&before, &rows_at(&url).await);

    takes_new_rows(&url, Backend::Sqlite).await;
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&junk);
    drop_database(resource).await;
}

#[tokio::test]
#[cfg_attr(
    kiemke_no_test_db,
    ignore = "TEST_DATABASE_URL was not set at build time"
)]
async fn a_postgresql_backup_restores_every_row_of_every_table() {
    let test = "the PostgreSQL backup test";
    if !(require_program("pg_dump", "postgresql-client", test)
        && require_program("pg_restore", "postgresql-client", test))
    {
        return;
    }
    let Some((url, resource)) = create_database(Backend::Postgres).await else {
        return;
    };
    let before = demo_rows(&url).await;
    let file = scratch("backup.dump");
    let (ok, out) = kiemke(&url, &["backup", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert!(out.contains("16 units"), "{out}");

    // The database is lost: dropped and created again, empty.
    let server = std::env::var("TEST_DATABASE_URL").expect("server");
    let name = url.rsplit('/').next().expect("name").to_string();
    let admin = Database::connect(&server).await.expect("server");
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    admin.close().await.ok();

    let (ok, out) = kiemke(&url, &["restore", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert_same(&before, &rows_at(&url).await);
    let (ok, out) = kiemke(&url, &["restore", file.to_str().expect("utf-8")]);
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = kiemke(&url, &["restore", "--force", file.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert_same(&before, &rows_at(&url).await);
    takes_new_rows(&url, Backend::Postgres).await;
    let _ = std::fs::remove_file(&file);
    drop_database(resource).await;
}
