//! Web UI speed (issue 12 "Speed"): server render time of every page of the unit accountant, in
//! process through the real router (session cookie, CSRF layer, compression, every layer the server
//! runs), p50 / p99 / max per page; and the bytes a browser transfers for the first and a later page.
//!
//! ```sh
//! # small size on SQLite (a fresh file under target/): the demo plus 2,000 assets in one unit
//! cargo bench --bench ui
//! # the issue's target: 100,000 assets in one unit on PostgreSQL (a fresh, empty database)
//! createdb -h 127.0.0.1 -U postgres kiemke_ui_bench
//! cargo bench --bench ui -- --database-url postgres://postgres@127.0.0.1:5432/kiemke_ui_bench --assets 100000
//! ```
//!
//! Targets: every page p99 < 20 ms on the demo; the asset list of the large unit (page 1, a
//! search, a filter, a deep page) p99 < 50 ms on PostgreSQL; the first page ≤ 150 KB transferred with
//! its CSS and JavaScript, a later page ≤ 30 KB. The verdict is printed beside each figure.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, header},
};
use clap::Parser;
use http_body_util::BodyExt;
use kiemke::{
    app,
    auth::Actor,
    build_state,
    clock::FixedClock,
    config::Settings,
    db,
    entities::{asset, unit},
    forms::Registry,
    state::AppState,
    workbooks::{self, ImportOptions},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use tower::ServiceExt;

#[derive(Debug, Parser)]
#[command(name = "ui", about = "kiemke web UI render times")]
struct Args {
    /// An empty database (default: a fresh SQLite file under the target directory).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Assets added to the unit 1109302 (type 01) besides the demo's.
    #[arg(long, default_value_t = 2000)]
    assets: usize,
    /// Timed requests per page.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Untimed requests first.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const PASSWORD: &str = "bench-demo-password-1";
/// The accountant of the large unit (the bench assets go there).
const ACCOUNTANT: &str = "ketoan.kinhte";
const UNIT: &str = "1109302";
/// A demo unit left as the demo made it, for the "every page on the demo" figures.
const DEMO_ACCOUNTANT: &str = "ketoan.vanhoa";
const DEMO_UNIT: &str = "1109303";

struct Res {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn send(router: &Router, req: Request<Body>) -> Res {
    let res = router
        .clone()
        .oneshot(req)
        .await
        .expect("router never fails");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Res {
        status,
        headers,
        body,
    }
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .header(header::ACCEPT_LANGUAGE, "vi-VN,vi")
        .body(Body::empty())
        .expect("request")
}

/// The flat CSV of `n` section IV assets with Vietnamese names.
fn csv(n: usize) -> Vec<u8> {
    let names = [
        "Máy tính để bàn phòng Kế toán",
        "Bàn làm việc Trường Tiểu học",
        "Tủ hồ sơ Đảng ủy",
        "Máy in laser phòng Một cửa",
        "Điều hòa nhiệt độ hội trường",
    ];
    let mut out = String::from("section,code,name,original_cost,usage_status,price_basis\n");
    for i in 0..n {
        let status = 1 + i % 4;
        let cost = 10_000_000 + (i % 997) as i64 * 123_000;
        out.push_str(&format!(
            "IV,BENCH-{i:06},{} {i},{cost},{status},actual\n",
            names[i % names.len()]
        ));
    }
    out.into_bytes()
}

async fn unit_id_of(state: &AppState, code: &str) -> i64 {
    unit::Entity::find()
        .filter(unit::Column::Code.eq(code))
        .one(&state.db)
        .await
        .expect("units")
        .unwrap_or_else(|| panic!("demo unit {code}"))
        .id
}

/// Logs in through the login form, as a browser does, and returns the session cookie.
async fn login(router: &Router, username: &str) -> String {
    let res = send(
        router,
        Request::builder()
            .method("POST")
            .uri("/login")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "username={username}&password={PASSWORD}"
            )))
            .expect("request"),
    )
    .await;
    res.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kiemke_session="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("login of {username} failed with {}", res.status))
        .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let url = args.database_url.clone().unwrap_or_else(|| {
        let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ui-bench-{}.db", std::process::id()));
        format!("sqlite://{}?mode=rwc", path.display())
    });
    let conn = db::connect(&url).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-10T09:00:00+07:00")
        .expect("instant")
        .with_timezone(&chrono::Utc);
    let settings = Settings {
        argon2_memory_kib: 8,
        insecure_argon2_for_tests: true,
        ..Settings::default()
    };
    let state: AppState = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(FixedClock::new(now)),
        settings,
    )
    .expect("state");
    let campaign = kiemke::demo::load(&state, Some(PASSWORD.into()))
        .await
        .expect("demo")
        .campaign_id;
    let unit_id = unit_id_of(&state, UNIT).await;
    if args.assets > 0 {
        let t = Instant::now();
        let opts = ImportOptions {
            dry_run: false,
            form_code: Some("01a".into()),
            file_name: "bench.csv".into(),
            max_rows: args.assets + 10,
        };
        let permit = state
            .imports
            .try_enter(unit_id)
            .expect("no other import runs");
        let report = workbooks::import(
            &state,
            &Actor::system(),
            &permit,
            campaign,
            unit_id,
            csv(args.assets).into(),
            &opts,
            &|_| {},
        )
        .await
        .expect("import the bench assets");
        eprintln!(
            "setup: {} assets imported into unit {UNIT} in {:.1} s",
            report.created,
            t.elapsed().as_secs_f64()
        );
    }
    if db::backend_name(&state.db) == "postgresql" {
        // What autovacuum does within a minute of a large import (PostgreSQL 13+ vacuums after
        // inserts too): fresh planner statistics, and a visibility map that lets the list's
        // index-only scans skip the rows.
        let t = Instant::now();
        conn.execute_unprepared("VACUUM ANALYZE assets")
            .await
            .expect("vacuum");
        eprintln!(
            "setup: VACUUM ANALYZE assets in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let router = app::app(state.clone());

    let cookie = login(&router, ACCOUNTANT).await;
    let demo_cookie = login(&router, DEMO_ACCOUNTANT).await;
    let demo_unit = unit_id_of(&state, DEMO_UNIT).await;

    let one = asset::Entity::find()
        .filter(asset::Column::UnitId.eq(demo_unit))
        .order_by_asc(asset::Column::Id)
        .one(&state.db)
        .await
        .expect("assets")
        .expect("an asset")
        .id;
    let list = format!("/units/{unit_id}/types/01");
    let demo_list = format!("/units/{demo_unit}/types/01");
    let total = args.assets + 3;
    let deep = (total / 50).max(1);
    let demo_pages: Vec<(&str, String)> = vec![
        ("login", "/login".into()),
        ("home", "/".into()),
        ("registration", format!("/units/{demo_unit}/registration")),
        ("list", demo_list.clone()),
        ("new (section)", format!("{demo_list}/new")),
        ("new (fields)", format!("{demo_list}/new?section=I")),
        ("edit", format!("/assets/{one}")),
        ("history", format!("/assets/{one}/history")),
        ("delete", format!("/assets/{one}/delete")),
        ("import", format!("{demo_list}/import")),
        ("submit", format!("{demo_list}/submit")),
    ];
    let list_pages: Vec<(&str, String)> = vec![
        ("list page 1", list.clone()),
        ("list search «truong»", format!("{list}?q=truong")),
        (
            "list filter section+status",
            format!("{list}?section=IV&usage_status=2"),
        ),
        ("list sort by cost", format!("{list}?sort=cost")),
        ("list deep page", format!("{list}?page={deep}")),
    ];
    // No stated target: the readiness check reads every record of the report.
    let info_pages: Vec<(&str, String)> = vec![
        ("home (large unit)", "/".into()),
        ("submit (large unit)", format!("{list}/submit")),
    ];

    println!(
        "kiemke web UI render times on {}: unit {UNIT} with {total} type-01 assets, {} requests per page",
        db::backend_name(&state.db),
        args.requests
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}  target",
        "page", "p50 ms", "p99 ms", "max ms", "bytes"
    );
    let mut failed = 0;
    for (group, pages, target, who) in [
        (
            "demo",
            &demo_pages,
            Some(Duration::from_millis(20)),
            &demo_cookie,
        ),
        (
            "large unit",
            &list_pages,
            Some(Duration::from_millis(50)),
            &cookie,
        ),
        ("large unit", &info_pages, None, &cookie),
    ] {
        for (name, path) in pages.iter() {
            for _ in 0..args.warmup {
                send(&router, get(path, who)).await;
            }
            let mut times = Vec::with_capacity(args.requests);
            let mut bytes = 0;
            for _ in 0..args.requests {
                let t = Instant::now();
                let res = send(&router, get(path, who)).await;
                times.push(t.elapsed());
                assert_eq!(
                    res.status,
                    200,
                    "{path}: {}",
                    String::from_utf8_lossy(&res.body)
                );
                bytes = res.body.len();
            }
            times.sort();
            let p99 = percentile(&times, 0.99);
            let verdict = match target {
                Some(t) if p99 < t => format!("p99 < {} ms ({group}): ok", t.as_millis()),
                Some(t) => {
                    failed += 1;
                    format!("p99 < {} ms ({group}): MISSED", t.as_millis())
                }
                None => format!("no target ({group})"),
            };
            println!(
                "{:<30} {:>9} {:>9} {:>9} {:>9}  {verdict}",
                name,
                ms(percentile(&times, 0.5)),
                ms(p99),
                ms(*times.last().expect("times")),
                bytes,
            );
        }
    }

    // Transfer sizes: the first page with its stylesheets and script, then a later page.
    let home = send(&router, get("/", &cookie)).await;
    let html = String::from_utf8_lossy(&home.body).into_owned();
    let mut first = home.body.len();
    let mut statics = Vec::new();
    if home.headers.get(header::CONTENT_ENCODING).is_none() {
        for part in html.split('"') {
            if part.starts_with("/static/") {
                statics.push(part.to_string());
            }
        }
    } else {
        // Compressed: fetch the page again uncompressed to find its assets.
        let mut req = get("/", &cookie);
        req.headers_mut().remove(header::ACCEPT_ENCODING);
        let plain = send(&router, req).await;
        for part in String::from_utf8_lossy(&plain.body).split('"') {
            if part.starts_with("/static/") {
                statics.push(part.to_string());
            }
        }
    }
    for s in &statics {
        let r = send(&router, get(s, &cookie)).await;
        first += r.body.len();
    }
    let later = send(&router, get(&list, &cookie)).await.body.len();
    let first_ok = first <= 150 * 1024;
    let later_ok = later <= 30 * 1024;
    if !first_ok || !later_ok {
        failed += 1;
    }
    println!(
        "first page (home + {} static files, compressed): {} bytes  ≤ 150 KB: {}",
        statics.len(),
        first,
        if first_ok { "ok" } else { "MISSED" }
    );
    println!(
        "later page (asset list, compressed): {later} bytes  ≤ 30 KB: {}",
        if later_ok { "ok" } else { "MISSED" }
    );
    conn.close().await.ok();
    if args.database_url.is_none() {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_end_matches("?mode=rwc")
            .to_string();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    println!(
        "{}",
        if failed == 0 {
            "verdict: every target met".to_string()
        } else {
            format!("verdict: {failed} target(s) missed")
        }
    );
}
