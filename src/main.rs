//! The `kiemke` command: serve, migrate, load the demo.

use std::{process::ExitCode, sync::Arc};

use clap::Parser;
use kiemke::{
    api, build_state,
    clock::SystemClock,
    config::{Cli, Command, Settings},
    db, demo,
    forms::{Profiles, Registry},
    state::AppState,
    users,
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kiemke: {message}");
            ExitCode::FAILURE
        }
    }
}

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
fn describe(e: kiemke::error::AppError) -> String {
    match &e {
        kiemke::error::AppError::Problem {
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
    let report = demo::load(state, password).await.map_err(describe)?;
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

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Command::Migrate => {
            open(&cli, Settings::default()).await?;
            println!("migrations applied to {}", redact(&cli.database_url));
            Ok(())
        }
        Command::Demo(args) => {
            let settings = Settings {
                admin_password: args.admin_password.clone(),
                ..Settings::default()
            };
            let state = open(&cli, settings).await?;
            bootstrap(&state, args.admin_password.clone()).await?;
            load_demo(&state, args.demo_password.clone()).await
        }
        Command::Remind(args) => {
            let state = open(&cli, Settings::default()).await?;
            let list = kiemke::progress::reminders(&state, args.campaign, args.within_days)
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
        Command::Data(cmd) => {
            println!("{}", kiemke::backup::run(&cli.database_url, cmd).await?);
            Ok(())
        }
        Command::Export(args) => {
            let state = open(&cli, Settings::default()).await?;
            let actor = kiemke::auth::Actor::system();
            let book = match (args.summary, args.progress, args.unit, args.form.as_deref()) {
                (true, _, _, Some(form)) => {
                    kiemke::workbooks::consolidated(&state, &actor, args.campaign, form).await
                }
                (_, true, _, _) => {
                    kiemke::workbooks::progress_sheet(&state, &actor, args.campaign).await
                }
                (false, false, Some(unit), Some(form)) => {
                    kiemke::workbooks::unit_form(
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
                    kiemke::workbooks::ward_flat(
                        &state,
                        &actor,
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
            std::fs::write(&args.out, &book.bytes)
                .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
            println!("wrote {} ({} bytes)", args.out.display(), book.bytes.len());
            Ok(())
        }
        Command::Import(args) => {
            let state = open(&cli, Settings::default()).await?;
            let bytes = std::fs::read(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
            let opts = kiemke::workbooks::ImportOptions {
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
            let report = kiemke::workbooks::import(
                &state,
                &kiemke::auth::Actor::system(),
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
        Command::Generate(args) => {
            let state = open(&cli, Settings::default()).await?;
            kiemke::generate::run(&state, args).await.map_err(describe)
        }
        Command::Unlock(args) => {
            let state = open(&cli, Settings::default()).await?;
            users::unlock(&state, &kiemke::auth::Actor::system(), &args.user)
                .await
                .map_err(describe)?;
            println!(
                "unlocked \"{}\": a running service lifts its hold on the next login attempt",
                args.user
            );
            Ok(())
        }
        Command::ResetPassword(args) => {
            let state = open(&cli, Settings::default()).await?;
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
        Command::Serve(args) => {
            let state = open(&cli, args.settings.clone()).await?;
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
            serve(
                listener,
                api::app(state),
                std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
                args.max_connections.max(1),
            )
            .await
        }
    }
}

/// Serves HTTP/1.1 on `listener` until Ctrl-C or SIGTERM, then lets the requests in flight finish.
///
/// Unlike `axum::serve`, a connection must send its request headers within `header_timeout`
/// (hyper's `header_read_timeout`, which needs a timer), so slow-header connections are closed
/// early; and at most `max_connections` are open at once: the next ones are not accepted and
/// wait in the kernel's listen queue.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_timeout: std::time::Duration,
    max_connections: usize,
) -> Result<(), String> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        service::TowerToHyperService,
    };
    use tower::ServiceExt;
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop = std::pin::pin!(shutdown());
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => p.map_err(|e| e.to_string())?,
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req.map(axum::body::Body::new)
            },
        );
        let mut stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop_rx.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it is closed: taking them all waits for the last one.
    let _ = slots
        .acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Installs the Ctrl-C and SIGTERM handlers at once and returns a future that resolves on
/// either; in-flight requests then finish before exit. The handlers are in place before the
/// first connection is accepted, so a signal sent as soon as `/health` answers is a graceful
/// shutdown, never the default action that kills the process (a lazily polled handler left
/// that window open under load).
fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn received(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = received(term) => {},
                _ = received(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
