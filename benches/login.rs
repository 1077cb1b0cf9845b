//! Login-flood benchmark (issue 15): a flood of logins must not starve other requests.
//!
//! ```sh
//! cargo bench --bench login                      # release build
//! cargo bench --bench login --profile dev        # quicker to build, slower argon2
//! cargo bench --bench login -- --clients 100 --seconds 5 --bound-ms 100
//! ```
//!
//! Starts the real `kiemke serve` on a fresh SQLite file with the production argon2 cost
//! (19,456 KiB), logs the admin in, then:
//!
//! 1. **Idle**: `--probes` sequential `GET /api/v1/me` with the token; their latency.
//! 2. **Burst**: `--clients` clients each log in once with the right password (a morning rush),
//!    waiting `Retry-After` when told to, as the web UI and any well-behaved client do, until
//!    each got 200; meanwhile one client keeps sending `GET /api/v1/me`: its latency, and how
//!    long the burst took.
//! 3. **Flood**: the same number of clients send logins back to back for `--seconds` seconds,
//!    ignoring `Retry-After` (an attacker; half the right password, half unknown names): the
//!    same latency, and the answers the logins got.
//!
//! The check passes when the p99 of `GET /api/v1/me` during the burst stays under `--bound-ms`
//! (default 100 ms; before the fix, argon2 ran on the async workers and such a request took
//! 2.5–5 s). Exits 1 when it does not. The flood's figures are reported, not judged: there the
//! clients' own connection rate competes for the same cores. The figures go to stdout.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Mutex,
};

/// Options.
#[derive(Debug, Parser)]
#[command(
    name = "login",
    about = "kiemke login flood: latency of other requests during a burst of logins"
)]
struct Args {
    /// Concurrent login clients.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// How long the flood lasts.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// `GET /api/v1/me` requests measured while idle.
    #[arg(long, default_value_t = 50)]
    probes: usize,
    /// Bound on the p99 latency of `GET /api/v1/me` under the flood, in milliseconds.
    #[arg(long, default_value_t = 100)]
    bound_ms: u64,
    /// The server binary (default: the one built with this benchmark).
    #[arg(long)]
    server: Option<std::path::PathBuf>,
    /// Ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

const PASSWORD: &str = "bench-admin-passphrase";

/// Sends one request; the status, the body and `Retry-After` (seconds, 0 when absent).
async fn request(addr: SocketAddr, raw: &[u8]) -> std::io::Result<(u16, Vec<u8>, u64)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(raw).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let status = std::str::from_utf8(buf.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let head = String::from_utf8_lossy(&buf[..split.unwrap_or(0)]).to_lowercase();
    let retry = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let body = split.map(|i| buf[i + 4..].to_vec()).unwrap_or_default();
    Ok((status, body, retry))
}

fn login_bytes(addr: SocketAddr, user: &str, password: &str) -> Vec<u8> {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn me_bytes(addr: SocketAddr, token: &str) -> Vec<u8> {
    format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )
    .into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut v: Vec<Duration>) -> Duration {
    v.sort();
    let p99 = percentile(&v, 0.99);
    println!(
        "{name:<28} n={:<5} p50={:>8.1?} p95={:>8.1?} p99={:>8.1?} max={:>8.1?}",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        p99,
        v.last().copied().unwrap_or_default()
    );
    p99
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Phase {
    latencies: Vec<Duration>,
    took: Duration,
    answers: String,
}

/// `clients` login clients: each logs in once honouring `Retry-After` (`flood` = None), or
/// sends logins back to back for `flood`; meanwhile `GET /api/v1/me` is timed.
async fn phase(addr: SocketAddr, me: &[u8], clients: usize, flood: Option<Duration>) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (stop, answers) = (Arc::clone(&stop), Arc::clone(&answers));
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let raw = if flood.is_none() || c % 2 == 0 {
                    login_bytes(addr, "admin", PASSWORD)
                } else {
                    login_bytes(addr, &format!("ghost{c}x{i}"), "wrong-password-1")
                };
                let (status, retry) = request(addr, &raw).await.map_or((0, 1), |r| (r.0, r.2));
                *answers.lock().await.entry(status).or_default() += 1;
                i += 1;
                if flood.is_none() {
                    if status == 200 || status == 401 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(retry.max(1))).await;
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    let until = flood.map(|d| Instant::now() + d);
    loop {
        let done = match until {
            Some(u) => Instant::now() >= u,
            None => {
                tasks.iter().all(|t| t.is_finished())
                    || started.elapsed() > Duration::from_secs(300)
            }
        };
        if done {
            break;
        }
        let t = Instant::now();
        let (status, ..) = request(addr, me).await.expect("me during logins");
        assert_eq!(status, 200, "GET /api/v1/me failed during the logins");
        latencies.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let answers = answers.lock().await;
    let total: usize = answers.values().sum();
    let listed: Vec<String> = answers.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    Phase {
        latencies,
        took,
        answers: format!("{total} ({}; 0 = connection error)", listed.join(", ")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("kiemke-login-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_kiemke").into());
    let _child = Killed(
        Command::new(server)
            .args(["serve", "--bind", &addr.to_string()])
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
            )
            .env("KIEMKE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn kiemke"),
    );
    let start = Instant::now();
    let token = loop {
        if let Ok((200, body, _)) = request(addr, &login_bytes(addr, "admin", PASSWORD)).await {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            break v["token"].as_str().expect("token").to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "kiemke login burst and flood: {} clients, flood for {} s, {cores} core(s), argon2id m=19456 KiB t=2 p=1",
        args.clients, args.seconds
    );

    let me = me_bytes(addr, &token);
    let mut idle = Vec::new();
    for _ in 0..args.probes {
        let t = Instant::now();
        let (status, ..) = request(addr, &me).await.expect("me");
        assert_eq!(status, 200);
        idle.push(t.elapsed());
    }
    summary("GET /api/v1/me, idle", idle);

    let burst = phase(addr, &me, args.clients, None).await;
    let flood = phase(
        addr,
        &me,
        args.clients,
        Some(Duration::from_secs(args.seconds)),
    )
    .await;
    let p99 = summary("GET /api/v1/me, login burst", burst.latencies);
    println!(
        "  burst of {} logins done in {:.1?}; answers: {}",
        args.clients, burst.took, burst.answers
    );
    summary("GET /api/v1/me, login flood", flood.latencies);
    println!("  flood for {:.1?}; answers: {}", flood.took, flood.answers);
    let _ = std::fs::remove_dir_all(&dir);
    if p99 <= Duration::from_millis(args.bound_ms) {
        println!("PASS: p99 {p99:.1?} <= {} ms", args.bound_ms);
        std::process::ExitCode::SUCCESS
    } else {
        println!("FAIL: p99 {p99:.1?} > {} ms", args.bound_ms);
        std::process::ExitCode::FAILURE
    }
}
