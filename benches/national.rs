//! Benchmarks at national scale (issue 7): read latencies through the real router, in process.
//!
//! Run against a database filled by `kiemke generate` (see `bench/run.sh`, which also runs the
//! loopback-HTTP benchmarks with wrk):
//!
//! ```sh
//! cargo bench --bench national -- --database-url 'sqlite://bench/out/sqlite.db?mode=rwc' --requests 200
//! ```
//!
//! Every benchmark sends its requests one after another through `tower::ServiceExt::oneshot`
//! on the router the server uses (every layer, the access policy and a real bearer token
//! included), reads the whole body, checks the status, and reports p50, p99 and max.
//! With `--out-dir DIR` it also writes what the wrk benchmarks need: `DIR/wrk_targets.lua`
//! (token, campaign and units whose report 01 is open) and `DIR/wrk.env` (the same for shell).

use std::{
    fmt::Write as _,
    future::Future,
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use clap::Parser;
use http_body_util::BodyExt;
use kiemke::{
    app, build_state,
    clock::SystemClock,
    config::Settings,
    db,
    entities::{campaign, report},
    forms::Registry,
    state::AppState,
    users,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tower::ServiceExt;

/// Options.
#[derive(Debug, Parser)]
#[command(
    name = "national",
    about = "kiemke benchmarks at national scale (in-process reads)"
)]
struct Args {
    /// Database filled by `kiemke generate`.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Campaign to read (default: the most recent one).
    #[arg(long)]
    campaign: Option<i64>,
    /// Timed requests per benchmark.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Untimed requests first.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// Benchmarks to run (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "board,assets")]
    only: Vec<String>,
    /// Password of the first admin, created when the database has no user.
    #[arg(
        long,
        env = "KIEMKE_ADMIN_PASSWORD",
        default_value = "bench-admin-password"
    )]
    admin_password: String,
    /// Where to write the wrk targets (`wrk_targets.lua`, `wrk.env`).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Units whose report 01 is open, for the write benchmark.
    #[arg(long, default_value_t = 2000)]
    wrk_units: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one benchmark measured.
struct Figure {
    name: &'static str,
    what: String,
    samples: Vec<Duration>,
}

impl Figure {
    fn pct(&self, p: f64) -> Duration {
        let mut v = self.samples.clone();
        v.sort();
        let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1)) - 1;
        v.get(i).copied().unwrap_or_default()
    }

    fn row(&self) -> String {
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            self.name,
            self.what,
            self.samples.len(),
            ms(self.pct(0.50)),
            ms(self.pct(0.99)),
            ms(self.pct(1.0)),
        )
    }
}

/// Shared by the benchmarks.
struct Ctx {
    router: Router,
    state: AppState,
    token: String,
    campaign: i64,
    args: Args,
}

impl Ctx {
    async fn get(&self, uri: &str) -> Result<usize, String> {
        let req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(format!(
                "GET {uri}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(body.len())
    }

    /// Times `uris` (cycled), after `warmup` untimed requests.
    async fn time(&self, uris: &[String]) -> Result<Vec<Duration>, String> {
        for i in 0..self.args.warmup {
            self.get(&uris[i % uris.len()]).await?;
        }
        let mut samples = Vec::with_capacity(self.args.requests);
        for i in 0..self.args.requests {
            let t = Instant::now();
            self.get(&uris[i % uris.len()]).await?;
            samples.push(t.elapsed());
        }
        Ok(samples)
    }
}

type BenchFuture<'a> = Pin<Box<dyn Future<Output = Result<Figure, String>> + 'a>>;
type Bench = for<'a> fn(&'a Ctx) -> BenchFuture<'a>;

/// The benchmarks, by name. A new one is a function here and a line in this list.
const BENCHES: &[(&str, Bench)] = &[
    ("board", |ctx| Box::pin(board(ctx))),
    ("assets", |ctx| Box::pin(asset_list(ctx))),
];

/// The progress board's first page (50 unit rows, every count over the whole campaign).
async fn board(ctx: &Ctx) -> Result<Figure, String> {
    let uri = format!("/api/v1/campaigns/{}/progress", ctx.campaign);
    let samples = ctx.time(std::slice::from_ref(&uri)).await?;
    Ok(Figure {
        name: "progress board, first page",
        what: format!("`GET {uri}`"),
        samples,
    })
}

/// One page of 50 assets of a unit, a different unit for each request.
async fn asset_list(ctx: &Ctx) -> Result<Figure, String> {
    let units: Vec<i64> = report::Entity::find()
        .select_only()
        .column(report::Column::UnitId)
        .filter(report::Column::CampaignId.eq(ctx.campaign))
        .filter(report::Column::TypeCode.eq("01"))
        .filter(report::Column::RecordCount.gte(40))
        .order_by_asc(report::Column::UnitId)
        .limit((ctx.args.requests + ctx.args.warmup) as u64)
        .into_tuple()
        .all(&ctx.state.db)
        .await
        .map_err(|e| e.to_string())?;
    if units.is_empty() {
        return Err("no unit holds 40 assets or more; generate with --assets-per-unit 50".into());
    }
    let uris: Vec<String> = units
        .iter()
        .map(|u| {
            format!(
                "/api/v1/campaigns/{}/units/{u}/assets?per_page=50",
                ctx.campaign
            )
        })
        .collect();
    let samples = ctx.time(&uris).await?;
    Ok(Figure {
        name: "asset list, one unit, 50 per page",
        what: format!(
            "`GET /api/v1/campaigns/{}/units/{{id}}/assets?per_page=50` over {} units",
            ctx.campaign,
            units.len()
        ),
        samples,
    })
}

/// Writes the token, the campaign and units with an open report 01, for wrk.
async fn write_wrk_targets(ctx: &Ctx, dir: &PathBuf) -> Result<(), String> {
    let units: Vec<i64> = report::Entity::find()
        .select_only()
        .column(report::Column::UnitId)
        .filter(report::Column::CampaignId.eq(ctx.campaign))
        .filter(report::Column::TypeCode.eq("01"))
        .filter(report::Column::State.eq("open"))
        .order_by_asc(report::Column::UnitId)
        .limit(ctx.args.wrk_units)
        .into_tuple()
        .all(&ctx.state.db)
        .await
        .map_err(|e| e.to_string())?;
    let first = *units
        .first()
        .ok_or("no unit has an open report 01 to write into")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut lua = format!(
        "-- written by benches/national.rs\nreturn {{\n  token = \"{}\",\n  campaign = {},\n  units = {{",
        ctx.token, ctx.campaign
    );
    for (i, u) in units.iter().enumerate() {
        if i % 16 == 0 {
            lua.push_str("\n    ");
        }
        let _ = write!(lua, "{u}, ");
    }
    lua.push_str("\n  },\n}\n");
    std::fs::write(dir.join("wrk_targets.lua"), lua).map_err(|e| e.to_string())?;
    let list_unit: Option<i64> = report::Entity::find()
        .select_only()
        .column(report::Column::UnitId)
        .filter(report::Column::CampaignId.eq(ctx.campaign))
        .order_by_desc(report::Column::RecordCount)
        .into_tuple()
        .one(&ctx.state.db)
        .await
        .map_err(|e| e.to_string())?;
    let env = format!(
        "TOKEN={}\nCAMPAIGN={}\nOPEN_UNIT={first}\nOPEN_UNITS={}\nLIST_UNIT={}\n",
        ctx.token,
        ctx.campaign,
        units.len(),
        list_unit.unwrap_or(first)
    );
    std::fs::write(dir.join("wrk.env"), env).map_err(|e| e.to_string())
}

async fn login(router: &Router, password: &str) -> Result<String, String> {
    let body = serde_json::json!({"username": "admin", "password": password}).to_string();
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    json["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("login as admin failed ({status}): {json}"))
}

async fn run(args: Args) -> Result<(), String> {
    let conn = db::connect(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    db::migrate(&conn).await.map_err(|e| e.to_string())?;
    let backend = db::backend_name(&conn);
    let forms = Arc::new(Registry::embedded().map_err(|e| e.to_string())?);
    let state = build_state(conn, forms, Arc::new(SystemClock), Settings::default())?;
    users::bootstrap_admin(&state, Some(args.admin_password.clone()))
        .await
        .map_err(|e| e.to_string())?;
    let router = app::app(state.clone());
    let token = login(&router, &args.admin_password).await?;
    let campaign = match args.campaign {
        Some(c) => c,
        None => {
            campaign::Entity::find()
                .order_by_desc(campaign::Column::Id)
                .one(&state.db)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no campaign: run `kiemke generate` first")?
                .id
        }
    };
    let ctx = Ctx {
        router,
        state,
        token,
        campaign,
        args,
    };
    if let Some(dir) = &ctx.args.out_dir {
        write_wrk_targets(&ctx, dir).await?;
    }
    println!(
        "\n### In-process reads on {backend} (campaign {campaign}, {} timed requests each after {} untimed)\n",
        ctx.args.requests, ctx.args.warmup
    );
    println!("| benchmark | request | n | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for (name, bench) in BENCHES {
        if !ctx.args.only.iter().any(|o| o == name) {
            continue;
        }
        let figure = bench(&ctx).await?;
        println!("{}", figure.row());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("national: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => {
            println!(
                "\ncommand: `cargo bench --bench national -- {}`",
                command.join(" ")
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("national: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
