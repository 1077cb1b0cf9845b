//! Issue 8: the real binary, killed with SIGKILL in the middle of a burst of writes and
//! restarted on the same database, keeps every write it acknowledged and no half of any
//! transaction; SIGTERM lets the request in flight finish before the process exits.
//!
//! These tests spawn processes, so they are not duplicated by `db_test!`: each declares its
//! SQLite and PostgreSQL runs itself (PostgreSQL through `TEST_DATABASE_URL`, as elsewhere).

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use kiemke::{build_state, clock::SystemClock, db, forms::Registry};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::{io::AsyncWriteExt, net::TcpStream, task::JoinSet};

use crate::{
    http::{SERVER_ADMIN_PASSWORD, Server, read_answer, request_bytes, send},
    reliability::invariants::assert_consistent,
    support::{Backend, create_database, drop_database, test_settings},
};

/// Kill-and-restart cycles per backend.
const CYCLES: usize = 3;
/// Creations offered per cycle (the kill comes long before they are all sent).
const BURST: usize = 400;
/// Concurrent clients.
const CLIENTS: usize = 16;
/// Acknowledged creations in a cycle before the kill.
const KILL_AFTER: usize = 40;

fn computer(code: &str) -> Value {
    json!({"asset_type": "01", "section": "IV", "code": code, "name": "Máy tính", "qty_books": 1, "qty_counted": 1,
           "original_cost": 15_000_000, "depreciation": 3_000_000, "usage_status": "1"})
}

fn log_dir(what: &str, backend: Backend) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kiemke-{what}-{}-{backend:?}", std::process::id()))
}

async fn get_json(server: &Server, path: &str, token: &str) -> Value {
    let res = send(server.addr, "GET", path, Some(token), None)
        .await
        .expect("request");
    assert_eq!(
        res.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&res.body)
    );
    res.json()
}

async fn sigkill_mid_burst(backend: Backend) {
    let Some((url, resource)) = create_database(backend).await else {
        return;
    };
    let dir = log_dir("crash", backend);
    let mut server = Server::start(&url, &["--demo"], &dir).await;
    let token = server.login("admin", SERVER_ADMIN_PASSWORD).await;
    let campaign = get_json(&server, "/api/v1/campaigns", &token).await["items"][0]["id"]
        .as_i64()
        .expect("the demo campaign");
    let units: Arc<Vec<i64>> = Arc::new(
        get_json(&server, "/api/v1/units?per_page=100", &token).await["items"]
            .as_array()
            .expect("units")
            .iter()
            .map(|u| u["id"].as_i64().expect("id"))
            .collect(),
    );
    let mut acknowledged = Vec::new();
    let mut in_flight = 0;
    for cycle in 0..CYCLES {
        let acks = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let mut clients = JoinSet::new();
        for _ in 0..CLIENTS {
            let (acks, next, units, token) =
                (acks.clone(), next.clone(), units.clone(), token.clone());
            let addr = server.addr;
            clients.spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= BURST {
                        return seen;
                    }
                    let code = format!("KILL{cycle}-{i:04}");
                    let unit = units[i % units.len()];
                    let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/assets");
                    match send(addr, "POST", &path, Some(&token), Some(&computer(&code))).await {
                        Ok(r) if r.status == 201 => {
                            acks.fetch_add(1, Ordering::SeqCst);
                            seen.push((code, Some(201)));
                        }
                        Ok(r) => seen.push((code, Some(r.status))),
                        // The server is gone: this creation may or may not have committed.
                        Err(_) => {
                            seen.push((code, None));
                            return seen;
                        }
                    }
                }
            });
        }
        let start = Instant::now();
        while acks.load(Ordering::SeqCst) < KILL_AFTER {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the burst stalled:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill();
        while let Some(done) = clients.join_next().await {
            for (code, status) in done.expect("client task") {
                match status {
                    Some(201) => acknowledged.push(code),
                    None => in_flight += 1,
                    Some(s) => panic!("{code}: unexpected {s} before the kill"),
                }
            }
        }
        assert!(
            next.load(Ordering::SeqCst) < BURST,
            "cycle {cycle}: the kill came after the burst"
        );
        // Restart on the same database: it must come up by itself (SQLite replays its WAL,
        // PostgreSQL never noticed more than dropped connections).
        server = Server::start(&url, &[], &dir).await;
    }
    server.terminate();
    assert!(
        server.exit_status(Duration::from_secs(30)).await.success(),
        "{}",
        server.log()
    );

    let conn = db::connect(&url).await.expect("reopen the database");
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT code FROM assets WHERE code LIKE 'KILL%'",
        ))
        .await
        .expect("codes");
    let stored: BTreeSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "code").expect("code"))
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|c| !stored.contains(*c))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after SIGKILL: {lost:?}"
    );
    let state = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(SystemClock),
        test_settings(),
    )
    .expect("state");
    let checked = assert_consistent(&state).await;
    eprintln!(
        "crash ({backend:?}): {CYCLES} SIGKILLs survived; {} creations acknowledged and all kept, \
         {in_flight} in flight at a kill ({} of them committed), {} assets and {} asset events consistent",
        acknowledged.len(),
        stored.len() - acknowledged.len(),
        checked.assets,
        checked.asset_events
    );
    conn.close().await.ok();
    drop_database(resource).await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn sigterm_with_a_request_in_flight(backend: Backend) {
    let Some((url, resource)) = create_database(backend).await else {
        return;
    };
    let dir = log_dir("sigterm", backend);
    let mut server = Server::start(&url, &[], &dir).await;
    let login = json!({"username": "admin", "password": SERVER_ADMIN_PASSWORD});
    let bytes = request_bytes(
        server.addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&login),
    );
    let cut = bytes.len() - 8;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // The head and most of the body: the request is being served when the signal comes.
    stream.write_all(&bytes[..cut]).await.expect("send");
    // Ample time for the server to read the head, even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.running(),
        "the server waits for the request in flight"
    );
    stream
        .write_all(&bytes[cut..])
        .await
        .expect("send the rest");
    let res = read_answer(stream).await.expect("an answer");
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert!(res.json()["token"].is_string());
    let status = server.exit_status(Duration::from_secs(30)).await;
    assert!(status.success(), "exit {status}:\n{}", server.log());
    assert!(
        send(server.addr, "GET", "/health", None, None)
            .await
            .is_err(),
        "nobody listens after the shutdown"
    );
    drop_database(resource).await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Rows of each import that is killed (doubled on each retry).
const IMPORT_ROWS: usize = 20_000;
/// Rounds of kills with a larger file when no kill of the previous round landed mid-import.
const IMPORT_RETRIES: usize = 2;

/// How one import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportEnd {
    /// Answered 200 before the kill (or, in the timed run, at all).
    Answered,
    /// Killed with the request sent and unanswered, and nothing of it committed: the kill landed
    /// mid-import.
    KilledMidImport,
    /// Killed unanswered, but the whole file had committed: the kill came after the commit.
    KilledAfterCommit,
}

/// Sends an import of `rows` rows (codes `IMP{tag}-…`) and waits at most `wait` for its answer.
/// Returns whether it was answered 200; panics on any other answer, or on a connection error.
async fn import_within(server: &Server, tag: &str, rows: usize, wait: Duration) -> bool {
    let token = server.login("admin", SERVER_ADMIN_PASSWORD).await;
    let campaign = get_json(server, "/api/v1/campaigns", &token).await["items"][0]["id"]
        .as_i64()
        .expect("the demo campaign");
    let unit = get_json(server, "/api/v1/units?q=1109309", &token).await["items"][0]["id"]
        .as_i64()
        .expect("a demo school");
    let mut csv = String::from("section;code;name;original_cost;usage_status\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "IV;IMP{tag}-{i:06};Bàn ghế học sinh {i};{};1\n",
            11_000_000 + i
        ));
    }
    let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        csv.len()
    );
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream.write_all(csv.as_bytes()).await.expect("send file");
    match tokio::time::timeout(wait, read_answer(stream)).await {
        Ok(Ok(r)) if r.status == 200 => true,
        Ok(Ok(r)) => panic!(
            "import {tag}: answered {} before any kill: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
        Ok(Err(e)) => panic!("import {tag}: the connection failed before any kill: {e}"),
        Err(_) => false,
    }
}

/// Rows of import `tag` in the database at `url`.
async fn imported_rows(url: &str, tag: &str) -> i64 {
    let conn = db::connect(url).await.expect("reopen the database");
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM assets WHERE code LIKE 'IMP{tag}-%'"),
        ))
        .await
        .expect("count")
        .expect("a row");
    conn.close().await.ok();
    row.try_get("", "n").expect("n")
}

async fn sigkill_mid_import(backend: Backend) {
    let Some((url, resource)) = create_database(backend).await else {
        return;
    };
    let dir = log_dir("crash-import", backend);
    let mut server = Server::start(&url, &["--demo"], &dir).await;
    // One untimed import of IMPORT_ROWS rows sets the pace.
    let started = Instant::now();
    assert!(
        import_within(&server, "T", IMPORT_ROWS, Duration::from_secs(300)).await,
        "the untimed import did not finish:\n{}",
        server.log()
    );
    let full_ms = started.elapsed().as_millis() as u64;
    assert_eq!(imported_rows(&url, "T").await, IMPORT_ROWS as i64);
    // Then imports killed at 30 %, 60 % and 90 % of that time: while the file is read, while
    // rows are checked, while they are written. A kill that lands only after the commit proves
    // nothing, so at least one kill must land mid-import; when none did, the round is repeated
    // with a file twice as large (killed at the same fractions of its estimated time).
    let mut outcomes = Vec::new();
    let mut mid_import = 0;
    for round in 0..=IMPORT_RETRIES {
        let rows = IMPORT_ROWS << round;
        let estimate_ms = full_ms << round;
        for percent in [30, 60, 90] {
            let tag = format!("{round}x{percent}");
            let delay = Duration::from_millis(estimate_ms * percent / 100);
            let answered = import_within(&server, &tag, rows, delay).await;
            server.kill();
            server = Server::start(&url, &[], &dir).await;
            let n = imported_rows(&url, &tag).await;
            assert!(
                n == 0 || n == rows as i64,
                "{tag}: the killed import left {n} of {rows} rows"
            );
            let end = if answered {
                assert_eq!(n, rows as i64, "{tag}: an acknowledged import was lost");
                ImportEnd::Answered
            } else if n == 0 {
                mid_import += 1;
                ImportEnd::KilledMidImport
            } else {
                ImportEnd::KilledAfterCommit
            };
            outcomes.push((rows, delay.as_millis(), end));
        }
        if mid_import > 0 {
            break;
        }
    }
    assert!(
        mid_import > 0,
        "no kill landed mid-import (rows, kill after ms, outcome): {outcomes:?}"
    );
    server.terminate();
    assert!(
        server.exit_status(Duration::from_secs(30)).await.success(),
        "{}",
        server.log()
    );
    let conn = db::connect(&url).await.expect("reopen the database");
    let state = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(SystemClock),
        test_settings(),
    )
    .expect("state");
    let checked = assert_consistent(&state).await;
    eprintln!(
        "crash-import ({backend:?}): one full import of {IMPORT_ROWS} rows in {full_ms} ms, then {} kills, \
         {mid_import} of them mid-import (rows, kill after ms, outcome): {outcomes:?}; {} assets consistent",
        outcomes.len(),
        checked.assets
    );
    conn.close().await.ok();
    drop_database(resource).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sigkill_mid_import_keeps_all_of_the_file_or_none_sqlite() {
    sigkill_mid_import(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    kiemke_no_test_db,
    ignore = "TEST_DATABASE_URL was not set at build time"
)]
async fn sigkill_mid_import_keeps_all_of_the_file_or_none_postgres() {
    sigkill_mid_import(Backend::Postgres).await;
}

#[tokio::test]
async fn sigkill_mid_burst_loses_no_acknowledged_write_and_no_half_transaction_sqlite() {
    sigkill_mid_burst(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    kiemke_no_test_db,
    ignore = "TEST_DATABASE_URL was not set at build time"
)]
async fn sigkill_mid_burst_loses_no_acknowledged_write_and_no_half_transaction_postgres() {
    sigkill_mid_burst(Backend::Postgres).await;
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_sqlite() {
    sigterm_with_a_request_in_flight(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    kiemke_no_test_db,
    ignore = "TEST_DATABASE_URL was not set at build time"
)]
async fn sigterm_lets_the_request_in_flight_finish_postgres() {
    sigterm_with_a_request_in_flight(Backend::Postgres).await;
}
