//! The command line: the `kiemke` command's subcommands and flags (clap), and one function per
//! subcommand. The service's own settings are [`crate::config::Settings`]; `main.rs` parses the
//! command line, sets up logging and calls [`run`].

use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::{
    app,
    auth::Actor,
    build_state,
    clock::SystemClock,
    config::Settings,
    db,
    error::AppError,
    forms::{Profiles, Registry},
    state::AppState,
    users,
};

/// kiemke — the public-asset inventory service (Tổng kiểm kê tài sản công).
///
/// With no configuration it keeps its data in `kiemke.db` (SQLite) in the
/// working directory. Set DATABASE_URL to a postgres:// URL for production.
#[derive(Debug, Parser)]
#[command(name = "kiemke", version, about, long_about)]
pub struct Cli {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://kiemke.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Directory of form definitions to use instead of the built-in ones.
    #[arg(long, env = "KIEMKE_FORMS_DIR", global = true)]
    pub forms_dir: Option<std::path::PathBuf>,

    /// Directory of export profiles to use instead of the built-in ones.
    #[arg(long, env = "KIEMKE_PROFILES_DIR", global = true)]
    pub profiles_dir: Option<std::path::PathBuf>,

    /// Most connections to PostgreSQL (SQLite always uses one).
    #[arg(long, env = "KIEMKE_DB_MAX_CONNECTIONS", default_value_t = crate::db::DEFAULT_MAX_CONNECTIONS, global = true)]
    pub db_max_connections: u32,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo ward (phường Tam Thanh: 16 units, 3 asset types) into the database.
    Demo(DemoArgs),
    /// Print the units that still owe a report (for a scheduled reminder job).
    Remind(RemindArgs),
    /// `backup FILE` and `restore FILE [--force]` (see docs/RELIABILITY.md).
    #[command(flatten)]
    Data(crate::tools::backup::BackupCommand),
    /// Write a form, the flat upload layout, a consolidated report or the progress board to an .xlsx file.
    Export(ExportArgs),
    /// Import an .xlsx or .csv file into a unit's assets (all rows or none).
    Import(ImportArgs),
    /// Fill the database with a deterministic national-scale dataset (for benchmarks).
    Generate(crate::tools::generate::GenerateArgs),
    /// Lift the login throttle's hold on a user name, also in a running service (see docs/SECURITY.md).
    Unlock(UnlockArgs),
    /// Set a user's password (generated and printed once unless KIEMKE_NEW_PASSWORD is set);
    /// ends the user's sessions and unlocks the name.
    ResetPassword(ResetPasswordArgs),
}

/// Options of `kiemke unlock`.
#[derive(Debug, Args, Clone)]
pub struct UnlockArgs {
    /// The user name.
    pub user: String,
}

/// Options of `kiemke reset-password`.
#[derive(Debug, Args, Clone)]
pub struct ResetPasswordArgs {
    /// The user name.
    pub user: String,
    /// The new password (from the environment, so that it does not show in the process list);
    /// generated when absent.
    #[arg(
        long = "password-from-env",
        env = "KIEMKE_NEW_PASSWORD",
        hide_env_values = true,
        hide = true
    )]
    pub password: Option<String>,
}

/// Options of `kiemke export`.
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// Campaign id.
    #[arg(long)]
    pub campaign: i64,
    /// Unit id (for a unit's form; omit with --summary or --progress, or with --flat for every unit).
    #[arg(long)]
    pub unit: Option<i64>,
    /// Form code, e.g. 01a.
    #[arg(long)]
    pub form: Option<String>,
    /// The flat layout instead of the official form.
    #[arg(long)]
    pub flat: bool,
    /// Export profile of the flat layout (profiles/*.toml): kiemke or national-draft (provisional).
    #[arg(long, default_value = crate::forms::DEFAULT_PROFILE)]
    pub profile: String,
    /// The consolidated report of --form across units.
    #[arg(long)]
    pub summary: bool,
    /// The progress board.
    #[arg(long)]
    pub progress: bool,
    /// Output file.
    #[arg(long, short)]
    pub out: std::path::PathBuf,
}

/// Options of `kiemke import`.
#[derive(Debug, Args, Clone)]
pub struct ImportArgs {
    /// Campaign id.
    #[arg(long)]
    pub campaign: i64,
    /// Unit id.
    #[arg(long)]
    pub unit: i64,
    /// Form code (needed when the unit registered several types and the file is not in our own layout).
    #[arg(long)]
    pub form: Option<String>,
    /// Check and report, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Most data rows accepted.
    #[arg(long, default_value_t = 200_000)]
    pub max_rows: usize,
    /// The file (.xlsx or .csv).
    pub file: std::path::PathBuf,
}

/// Options of `kiemke remind`.
#[derive(Debug, Args, Clone)]
pub struct RemindArgs {
    /// Campaign id.
    #[arg(long)]
    pub campaign: i64,
    /// Only reports due within this many days (overdue ones always included).
    #[arg(long)]
    pub within_days: Option<i64>,
    /// Print JSON (the same document as GET /api/v1/campaigns/{id}/reminders) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `kiemke serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KIEMKE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Load the demo ward before serving (idempotent).
    #[arg(long)]
    pub demo: bool,
    /// Password of the demo users (generated and printed when absent).
    #[arg(long, env = "KIEMKE_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// Seconds a connection may take to send a request's headers before it is closed.
    #[arg(long, env = "KIEMKE_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Most client connections open at once; further ones wait in the listen queue.
    #[arg(long, env = "KIEMKE_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    #[command(flatten)]
    pub settings: Settings,
}

/// Options of `kiemke demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Password of the demo users (generated and printed when absent).
    #[arg(long, env = "KIEMKE_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// Password of the first admin, when the database has no user yet.
    #[arg(long, env = "KIEMKE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

/// Runs one command; an `Err` is the message to print before exiting with a failure.
pub async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Command::Migrate => migrate(&cli).await,
        Command::Demo(args) => demo(&cli, args).await,
        Command::Remind(args) => remind(&cli, args).await,
        Command::Data(cmd) => data(&cli, cmd).await,
        Command::Export(args) => export(&cli, args).await,
        Command::Import(args) => import(&cli, args).await,
        Command::Generate(args) => generate(&cli, args).await,
        Command::Unlock(args) => unlock(&cli, args).await,
        Command::ResetPassword(args) => reset_password(&cli, args).await,
        Command::Serve(args) => serve(&cli, args).await,
    }
}

/// `kiemke migrate`.
async fn migrate(cli: &Cli) -> Result<(), String> {
    open(cli, Settings::default()).await?;
    println!("migrations applied to {}", redact(&cli.database_url));
    Ok(())
}

/// `kiemke demo`: the first admin, then the demo ward.
async fn demo(cli: &Cli, args: &DemoArgs) -> Result<(), String> {
    let settings = Settings {
        admin_password: args.admin_password.clone(),
        ..Settings::default()
    };
    let state = open(cli, settings).await?;
    bootstrap(&state, args.admin_password.clone()).await?;
    load_demo(&state, args.demo_password.clone()).await
}

/// `kiemke remind`: the units still owing a report, as text or JSON.
async fn remind(cli: &Cli, args: &RemindArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    let list = crate::progress::reminders(&state, args.campaign, args.within_days)
        .await
        .map_err(describe)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{} đơn vị còn nợ báo cáo / units still owing a report",
            list.len()
        );
        for r in &list {
            let owed: Vec<String> = r
                .owed
                .iter()
                .map(|o| {
                    let when = if o.days_left < 0 {
                        format!("quá hạn {} ngày", -o.days_left)
                    } else {
                        format!("còn {} ngày", o.days_left)
                    };
                    format!(
                        "mẫu {} ({}, hạn {}, {when})",
                        o.form_code,
                        o.state.label_vi(),
                        o.deadline.format("%d/%m/%Y")
                    )
                })
                .collect();
            let contact = r
                .accountant_email
                .clone()
                .or(r.accountant_phone.clone())
                .unwrap_or_default();
            println!("{}\t{}\t{}\t{}", r.code, r.name, owed.join("; "), contact);
        }
    }
    Ok(())
}

/// `kiemke backup` and `kiemke restore`.
async fn data(cli: &Cli, cmd: &crate::tools::backup::BackupCommand) -> Result<(), String> {
    println!(
        "{}",
        crate::tools::backup::run(&cli.database_url, cmd).await?
    );
    Ok(())
}

/// `kiemke export`: one workbook written to `--out`.
async fn export(cli: &Cli, args: &ExportArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    let actor = Actor::system();
    let book = match (args.summary, args.progress, args.unit, args.form.as_deref()) {
        (true, _, _, Some(form)) => {
            let all = crate::progress::View::installation();
            crate::workbooks::consolidated(&state, &actor, &all, args.campaign, form).await
        }
        (_, true, _, _) => {
            let all = crate::progress::View::installation();
            crate::workbooks::progress_sheet(&state, &actor, &all, args.campaign).await
        }
        (false, false, Some(unit), Some(form)) => {
            crate::workbooks::unit_form(
                &state,
                &actor,
                args.campaign,
                unit,
                form,
                args.flat.then_some(args.profile.as_str()),
            )
            .await
        }
        (false, false, None, Some(form)) if args.flat => {
            crate::workbooks::ward_flat(
                &state,
                &actor,
                &crate::progress::View::installation(),
                args.campaign,
                form,
                &args.profile,
            )
            .await
        }
        _ => {
            return Err(
                "name --unit and --form, or --flat with --form (every unit), or --summary with --form, or --progress".into(),
            );
        }
    }
    .map_err(describe)?;
    // Written as it comes (a unit's form is streamed); a failed file is not left behind.
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", args.out.display());
    let mut file = std::io::BufWriter::new(std::fs::File::create(&args.out).map_err(cannot)?);
    let written = match book.write_to(&mut file).await {
        Ok(n) => std::io::Write::flush(&mut file).map(|()| n),
        Err(e) => Err(e),
    };
    let n = written.map_err(|e| {
        let _ = std::fs::remove_file(&args.out);
        cannot(e)
    })?;
    println!("wrote {} ({n} bytes)", args.out.display());
    Ok(())
}

/// `kiemke import`: a file into a unit's assets, all rows or none.
async fn import(cli: &Cli, args: &ImportArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let opts = crate::workbooks::ImportOptions {
        dry_run: args.dry_run,
        form_code: args.form.clone(),
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        max_rows: args.max_rows,
    };
    let bar = |done: usize| {
        if done.is_multiple_of(10_000) {
            eprint!("\r{done} rows checked");
        }
    };
    let permit = state.imports.try_enter(args.unit).map_err(describe)?;
    let report = crate::workbooks::import(
        &state,
        &Actor::system(),
        &permit,
        args.campaign,
        args.unit,
        bytes.into(),
        &opts,
        &bar,
    )
    .await
    .map_err(describe)?;
    if report.rows >= 10_000 {
        eprintln!();
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} error(s); nothing was imported",
            report.error_count
        ))
    }
}

/// `kiemke generate`.
async fn generate(cli: &Cli, args: &crate::tools::generate::GenerateArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    crate::tools::generate::run(&state, args)
        .await
        .map_err(describe)
}

/// `kiemke unlock`.
async fn unlock(cli: &Cli, args: &UnlockArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    users::unlock(&state, &Actor::system(), &args.user)
        .await
        .map_err(describe)?;
    println!(
        "unlocked \"{}\": a running service lifts its hold on the next login attempt",
        args.user
    );
    Ok(())
}

/// `kiemke reset-password`.
async fn reset_password(cli: &Cli, args: &ResetPasswordArgs) -> Result<(), String> {
    let state = open(cli, Settings::default()).await?;
    let generated = users::operator_reset(&state, &args.user, args.password.clone())
        .await
        .map_err(describe)?;
    match generated {
        Some(pw) => println!(
            "new password of \"{}\": {pw} (shown once; every session of the account ended)",
            args.user
        ),
        None => println!(
            "password of \"{}\" set; every session of the account ended",
            args.user
        ),
    }
    Ok(())
}

/// `kiemke serve`: the first admin, the demo ward if asked, then HTTP until a signal.
async fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), String> {
    let mut state = open(cli, args.settings.clone()).await?;
    if let Some(url) = &args.settings.read_database_url {
        crate::replica::attach(&mut state, url, cli.db_max_connections).await?;
        tracing::info!(
            replica = %redact(url),
            "the board, summary, reminders and exports read from the replica"
        );
    }
    bootstrap(&state, args.settings.admin_password.clone()).await?;
    if args.demo {
        load_demo(&state, args.demo_password.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        database = db::backend_name(&state.db),
        "kiemke listening on http://{addr} (API docs: http://{addr}/docs)"
    );
    app::server::serve(
        listener,
        app::app(state),
        std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
        args.max_connections.max(1),
    )
    .await
}

/// The database migrated, the forms and profiles checked, and the shared state built.
async fn open(cli: &Cli, settings: Settings) -> Result<AppState, String> {
    let forms = match &cli.forms_dir {
        Some(dir) => Registry::from_dir(dir),
        None => Registry::embedded(),
    }
    .and_then(|forms| {
        let profiles = match &cli.profiles_dir {
            Some(dir) => Profiles::from_dir(dir)?,
            None => Profiles::embedded()?,
        };
        forms.with_profiles(profiles)
    })
    .map_err(|e| e.to_string())?;
    let conn = db::connect_with(&cli.database_url, cli.db_max_connections)
        .await
        .map_err(|e| {
            format!(
                "cannot open the database {}: {e}",
                redact(&cli.database_url)
            )
        })?;
    db::migrate(&conn)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    build_state(conn, Arc::new(forms), Arc::new(SystemClock), settings)
}

/// An error for the terminal: the failing fields spelled out, not just a status.
fn describe(e: AppError) -> String {
    match &e {
        AppError::Problem {
            errors, detail_en, ..
        } if !errors.is_empty() => {
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
                + &format!(" ({detail_en})")
        }
        _ => e.to_string(),
    }
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

async fn bootstrap(state: &AppState, admin_password: Option<String>) -> Result<(), String> {
    if let Some(pw) = users::bootstrap_admin(state, admin_password)
        .await
        .map_err(describe)?
    {
        tracing::warn!(
            "created the first admin account: user name \"admin\", password \"{pw}\" (shown once; change it with POST /api/v1/me/password)"
        );
    }
    Ok(())
}

async fn load_demo(state: &AppState, password: Option<String>) -> Result<(), String> {
    let report = crate::tools::demo::load(state, password)
        .await
        .map_err(describe)?;
    if report.created {
        tracing::info!(
            campaign_id = report.campaign_id,
            "loaded the demo ward phường Tam Thanh (16 units)"
        );
        if let Some(pw) = report.generated_password {
            tracing::warn!(
                "demo accounts: \"taichinh\" (finance office), \"chutich\" (viewer), \"ketoan.<unit>\" (accountants, e.g. ketoan.vanphong) — password \"{pw}\" (shown once)"
            );
        }
    } else {
        tracing::info!(
            campaign_id = report.campaign_id,
            "the demo ward is already loaded"
        );
    }
    Ok(())
}
