//! The finance office's pages at scale (issue 13 "Speed"): server render time of the board (figures,
//! both charts and the first 50 rows), a filtered board, a search, a deep page and a unit's page, in
//! process through the real router with a session cookie (every layer the server runs), p50 / p99 /
//! max; and the time to the first bytes of the zip of a form's official forms.
//!
//! ```sh
//! # small size on SQLite (a fresh file under target/): 2,000 generated units
//! cargo bench --bench board
//! # the issue's target: 100,000 units on PostgreSQL (a fresh, empty database)
//! createdb -h 127.0.0.1 -U postgres kiemke_board_bench
//! cargo bench --bench board -- --database-url postgres://postgres@127.0.0.1:5432/kiemke_board_bench --units 100000
//! ```
//!
//! Targets: board, filtered and deep page p99 < 150 ms, unit page p99 < 30 ms (PostgreSQL at
//! 100,000 units); the zip starts within 1 s. The verdict is printed beside each figure.

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
    api, build_state,
    clock::FixedClock,
    config::Settings,
    db,
    entities::report,
    forms::Registry,
    generate::{self, GenerateArgs},
    state::AppState,
    users,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tower::ServiceExt;

#[derive(Debug, Parser)]
#[command(name = "board", about = "kiemke finance office pages at scale")]
struct Args {
    /// An empty database (default: a fresh SQLite file under the target directory).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Units to generate.
    #[arg(long, default_value_t = 2000)]
    units: u64,
    /// Assets per unit that has started entering.
    #[arg(long, default_value_t = 5)]
    assets_per_unit: u32,
    /// Timed requests per page.
    #[arg(long, default_value_t = 100)]
    requests: usize,
    /// Untimed requests first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const PASSWORD: &str = "bench-admin-password-1";

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT, "text/html")
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .expect("request")
}

/// Signs in through the login form and returns the session cookie.
async fn login(router: &Router) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("username=admin&password={PASSWORD}")))
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("router");
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    assert!(cookie.starts_with("kiemke_session=kk_"), "{cookie}");
    cookie
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let url = args.database_url.clone().unwrap_or_else(|| {
        let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("board-bench-{}.db", std::process::id()));
        format!("sqlite://{}?mode=rwc", path.display())
    });
    let conn = db::connect(&url).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    // After the generated campaign's deadline, so that "overdue" is a real filter.
    let now = chrono::DateTime::parse_from_rfc3339("2026-04-05T09:00:00+07:00")
        .expect("instant")
        .with_timezone(&chrono::Utc);
    let state: AppState = build_state(
        conn.clone(),
        Arc::new(Registry::embedded().expect("forms")),
        Arc::new(FixedClock::new(now)),
        Settings {
            argon2_memory_kib: 8,
            insecure_argon2_for_tests: true,
            ..Settings::default()
        },
    )
    .expect("state");
    let t = Instant::now();
    let campaign = generate::generate(
        &state,
        &GenerateArgs::new(args.units, args.assets_per_unit, 1),
        |_, _| {},
    )
    .await
    .expect("generate")
    .campaign_id;
    eprintln!(
        "setup: {} units generated in {:.1} s",
        args.units,
        t.elapsed().as_secs_f64()
    );
    users::bootstrap_admin(&state, Some(PASSWORD.into()))
        .await
        .expect("admin");
    let router = api::app(state.clone());
    let cookie = login(&router).await;
    // A unit with a sent report of type 01, for the unit page.
    let sent = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign))
        .filter(report::Column::TypeCode.eq("01"))
        .filter(report::Column::State.eq("submitted"))
        .order_by_asc(report::Column::UnitId)
        .one(&state.db)
        .await
        .expect("reports")
        .expect("a submitted report");
    let deep = (args.units / 50).max(1);
    let pages: Vec<(&str, String, Option<Duration>)> = vec![
        ("board", "/board".into(), Some(Duration::from_millis(150))),
        (
            "board overdue + schools",
            "/board?overdue=true&kind=school".into(),
            Some(Duration::from_millis(150)),
        ),
        (
            "board state submitted, 01",
            "/board?state=submitted&asset_type=01".into(),
            Some(Duration::from_millis(150)),
        ),
        (
            "board search «truong»",
            "/board?q=truong".into(),
            Some(Duration::from_millis(150)),
        ),
        (
            "board deep page",
            format!("/board?page={deep}"),
            Some(Duration::from_millis(150)),
        ),
        (
            "board sorted by name",
            "/board?sort=name".into(),
            Some(Duration::from_millis(150)),
        ),
        (
            "unit page",
            format!("/units/{}", sent.unit_id),
            Some(Duration::from_millis(30)),
        ),
        ("summary", "/summary".into(), None),
    ];
    println!(
        "kiemke finance office pages on {}: {} units, {} requests per page",
        db::backend_name(&state.db),
        args.units,
        args.requests
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}  target",
        "page", "p50 ms", "p99 ms", "max ms", "bytes"
    );
    let mut failed = 0;
    for (name, path, target) in &pages {
        for _ in 0..args.warmup {
            let _ = router.clone().oneshot(get(path, &cookie)).await;
        }
        let mut times = Vec::with_capacity(args.requests);
        let mut bytes = 0;
        for _ in 0..args.requests {
            let t = Instant::now();
            let res = router
                .clone()
                .oneshot(get(path, &cookie))
                .await
                .expect("router");
            let status = res.status();
            let body = res.into_body().collect().await.expect("body").to_bytes();
            times.push(t.elapsed());
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            bytes = body.len();
        }
        times.sort();
        let p99 = percentile(&times, 0.99);
        let verdict = match target {
            Some(t) if p99 < *t => format!("p99 < {} ms: ok", t.as_millis()),
            Some(t) => {
                failed += 1;
                format!("p99 < {} ms: MISSED", t.as_millis())
            }
            None => "no target".to_string(),
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
    // The zip of every unit's form 01a: the time to its first bytes (the rest is not read).
    let t = Instant::now();
    let res = router
        .clone()
        .oneshot(get("/downloads/forms/01a", &cookie))
        .await
        .expect("router");
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    let first = body.frame().await.expect("a first frame").expect("bytes");
    let started = t.elapsed();
    let ok = started < Duration::from_secs(1);
    if !ok {
        failed += 1;
    }
    println!(
        "zip of form 01a: first {} bytes after {} ms  < 1000 ms: {}",
        first.data_ref().map_or(0, |b| b.len()),
        ms(started),
        if ok { "ok" } else { "MISSED" }
    );
    drop(body);
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
