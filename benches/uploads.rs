//! Memory under hostile uploads (issue 15, points 1 and 4): the peak resident memory of a real
//! release server while it answers each class of hostile file, and four of them at once, and
//! what it keeps afterwards.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench uploads -- --database-url 'sqlite://bench/out/uploads.db?mode=rwc'
//! ```
//!
//! The database must be empty (`bench/run.sh` makes one per backend). What it does:
//!
//! 1. Starts `target/release/kiemke serve` on loopback, creates a campaign and four units
//!    registered for type 02 through the API, and imports one small file (so that what a first
//!    import sets up counts as idle). **Idle** is the server's `VmRSS` then.
//! 2. For each class of hostile file (built by `tests/api/workbooks/hostile_files.rs`, the files
//!    of the regression tests at full size): resets the server's peak (`5` into
//!    `/proc/PID/clear_refs`), uploads the file asking for the annotated workbook, and reads the
//!    peak (`VmHWM`) and, a couple of seconds later, the resident size (`VmRSS`).
//! 3. The same for four uploads of the heaviest accepted class sent at once, to four units.
//!
//! The verdict: every peak stays under `--bound-mb` (150) above idle, and the server keeps
//! under 32 MB above idle two seconds after the answer. Exit status 1 when either fails. The table goes to
//! stdout and `<out-dir>/uploads.md`.

#[path = "../tests/api/workbooks/hostile_files.rs"]
mod hostile_files;

use std::{
    fmt::Write as _,
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use hostile_files::*;
use serde_json::{Value, json};

/// Options.
#[derive(Debug, Parser)]
#[command(
    name = "uploads",
    about = "kiemke: server memory under hostile uploads"
)]
struct Args {
    /// An empty database.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The release binary.
    #[arg(long, default_value = "target/release/kiemke")]
    kiemke: PathBuf,
    /// Loopback port for the server.
    #[arg(long, default_value_t = 18_090)]
    port: u16,
    /// Largest peak allowed above idle, MB.
    #[arg(long, default_value_t = 150)]
    bound_mb: u64,
    /// Largest resident size allowed above idle once quiet, MB.
    #[arg(long, default_value_t = 32)]
    kept_mb: u64,
    /// Where the table goes.
    #[arg(long, default_value = "bench/out")]
    out_dir: PathBuf,
}

const ADMIN_PASSWORD: &str = "bench-admin-password";
const MB: f64 = 1_048_576.0;

/// A response: status and body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// One HTTP/1.1 request over a fresh connection. A server that answers before reading the body
/// (an import refused at the gate) may close the connection while the body is still being sent:
/// then the answer is still read when it arrived, and otherwise reported as status 0.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    accept: Option<&str>,
    body: &[u8],
) -> Result<Answer, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(300)))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !content_type.is_empty() {
        let _ = write!(head, "Content-Type: {content_type}\r\n");
    }
    if let Some(t) = token {
        let _ = write!(head, "Authorization: Bearer {t}\r\n");
    }
    if let Some(a) = accept {
        let _ = write!(head, "Accept: {a}\r\n");
    }
    head.push_str("\r\n");
    let sent = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let read = s.read_to_end(&mut raw);
    if raw.is_empty() {
        return match (sent, read) {
            (Err(_), _) | (_, Err(_)) => Ok(Answer {
                status: 0,
                body: vec![],
            }),
            _ => Err(format!("{method} {path}: empty answer")),
        };
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line"))?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    Ok(Answer { status, body })
}

fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
    out
}

fn json_call(port: u16, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    match http(port, method, path, token, "application/json", None, &bytes) {
        Ok(a) if (200..300).contains(&a.status) => {
            serde_json::from_slice(&a.body).unwrap_or(Value::Null)
        }
        Ok(a) => panic!(
            "{method} {path}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ),
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

/// `VmRSS` and `VmHWM` of a process, bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the process's peak resident size to its current size.
fn reset_peak(pid: u32) -> Result<(), String> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .map_err(|e| format!("cannot reset the peak (/proc/{pid}/clear_refs): {e}"))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One class of hostile file.
struct Class {
    name: &'static str,
    content_type: &'static str,
    bytes: Vec<u8>,
}

fn classes() -> Vec<Class> {
    vec![
        Class {
            name: "hidden sheet with cells in A1 and XFD1048576 (issue 15.1)",
            content_type: XLSX,
            bytes: hidden_far_cell(),
        },
        Class {
            name: "1,800,000 one-letter shared strings behind a stored part (issue 15.4)",
            content_type: XLSX,
            bytes: tiny_shared_strings(1_800_000),
        },
        Class {
            name: "500,000 distinct shared strings: at the cap, read and annotated",
            content_type: XLSX,
            bytes: distinct_shared_strings(500_000),
        },
        Class {
            name: "shared strings declaring uniqueCount 4,000,000,000",
            content_type: XLSX,
            bytes: declared_shared_strings(4_000_000_000),
        },
        Class {
            name: "one cell of 30 MB of text",
            content_type: XLSX,
            bytes: long_cell_text(30 * 1024 * 1024),
        },
        Class {
            name: "8 MiB CSV of commas, annotated answer (issue 15.4)",
            content_type: "text/csv",
            bytes: csv_of_commas(8 * 1024 * 1024),
        },
        Class {
            name: "200,000 rows with 2 bad cells each, annotated answer",
            content_type: "text/csv",
            bytes: csv_of_bad_rows(200_000),
        },
    ]
}

fn run(args: Args) -> Result<bool, String> {
    if !args.kiemke.is_file() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            args.kiemke.display()
        ));
    }
    std::fs::create_dir_all(&args.out_dir).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(args.out_dir.join("uploads-server.log"))
        .map_err(|e| e.to_string())?;
    let child = Command::new(&args.kiemke)
        .args(["--database-url", &args.database_url, "serve", "--bind"])
        .arg(format!("127.0.0.1:{}", args.port))
        .env("KIEMKE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}", args.kiemke.display()))?;
    let server = Server(child);
    let pid = server.0.id();
    let port = args.port;
    let started = Instant::now();
    while http(port, "GET", "/health", None, "", None, b"").map(|a| a.status) != Ok(200) {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the server did not start; see uploads-server.log".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let token = json_call(
        port,
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": "admin", "password": ADMIN_PASSWORD}),
    )["token"]
        .as_str()
        .ok_or("no token")?
        .to_string();
    let t = Some(token.as_str());
    let campaign = json_call(port, "POST", "/api/v1/campaigns", t, &json!({
        "name": "Tổng kiểm kê 2026", "authority_name": "UBND PHƯỜNG TAM THANH", "place_name": "Tam Thanh",
        "cutoff_at": "2026-01-01T00:00:00+07:00",
        "registration_deadline": "2026-03-31", "submission_deadline": "2026-03-31"
    }))["id"]
        .as_i64()
        .ok_or("no campaign id")?;
    let mut imports = Vec::new();
    for i in 0..4 {
        let unit = json_call(port, "POST", "/api/v1/units", t, &json!({
            "code": format!("900000{i}"), "name": format!("Đơn vị thử {i}"), "kind": "state_agency"
        }))["id"]
            .as_i64()
            .ok_or("no unit id")?;
        json_call(
            port,
            "PUT",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/registration"),
            t,
            &json!({
                "team_decision_no": "01/QĐ-TKK", "team_decision_date": "2026-01-12",
                "team_members": [{"name": "Nguyễn Văn A", "position": "Kế toán", "team_role": "Tổ trưởng"}],
                "asset_types": ["02"]
            }),
        );
        imports.push(format!("/api/v1/campaigns/{campaign}/units/{unit}/imports"));
    }
    let good = b"code;name;original_cost;usage_status;length_km\nDB-1;A;1.000.000;1;1\n";
    let warm = http(
        port,
        "POST",
        &format!("{}?dry_run=true", imports[0]),
        t,
        "text/csv",
        None,
        good,
    )?;
    if warm.status != 200 {
        return Err(format!("warm-up import: {}", warm.status));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (idle, _) = memory(pid);
    let bound = args.bound_mb as f64;
    let kept_bound = args.kept_mb as f64;
    let mut ok = true;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "Server idle: {:.1} MB resident (`VmRSS`). Bound: peak under {bound:.0} MB above idle; \
         under {kept_bound:.0} MB above idle two seconds after.\n",
        idle as f64 / MB
    );
    let _ = writeln!(
        table,
        "| upload | size | answer | peak above idle | two seconds after | verdict |\n|---|---|---|---|---|---|"
    );
    for class in classes() {
        reset_peak(pid)?;
        let started = Instant::now();
        let a = http(
            port,
            "POST",
            &imports[0],
            t,
            class.content_type,
            Some(XLSX),
            &class.bytes,
        )?;
        let took = started.elapsed();
        let (_, peak) = memory(pid);
        std::thread::sleep(Duration::from_secs(2));
        let (after, _) = memory(pid);
        let above = peak.saturating_sub(idle) as f64 / MB;
        let kept = after.saturating_sub(idle) as f64 / MB;
        let fine = above < bound && kept < kept_bound && (400..500).contains(&a.status);
        ok &= fine;
        let _ = writeln!(
            table,
            "| {} | {:.1} MB | {} in {:.2} s | {above:.1} MB | {kept:.1} MB | {} |",
            class.name,
            class.bytes.len() as f64 / MB,
            a.status,
            took.as_secs_f64(),
            if fine { "ok" } else { "**over**" }
        );
    }
    // Four of the heaviest accepted class at once, to four units.
    let heavy = distinct_shared_strings(500_000);
    reset_peak(pid)?;
    let started = Instant::now();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = imports
            .iter()
            .map(|path| {
                let (heavy, t) = (&heavy, t);
                s.spawn(move || {
                    http(port, "POST", path, t, XLSX, Some(XLSX), heavy).map_or(0, |a| a.status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let took = started.elapsed();
    let (_, peak) = memory(pid);
    std::thread::sleep(Duration::from_secs(2));
    let (after, _) = memory(pid);
    let above = peak.saturating_sub(idle) as f64 / MB;
    let kept = after.saturating_sub(idle) as f64 / MB;
    let fine = above < bound && kept < kept_bound;
    ok &= fine;
    let _ = writeln!(
        table,
        "| four of the 500,000-string file at once, to four units | 4 × {:.1} MB | {:?} in {:.2} s | {above:.1} MB | {kept:.1} MB | {} |",
        heavy.len() as f64 / MB,
        statuses,
        took.as_secs_f64(),
        if fine { "ok" } else { "**over**" }
    );
    let health = http(port, "GET", "/health", None, "", None, b"")?;
    let _ = writeln!(
        table,
        "\n`/health` afterwards: {}. Status 0: the server refused at once and closed the connection \
         before the upload was sent (an import beyond the gate).\n\ncommand: `cargo bench --bench uploads -- --database-url {}`",
        health.status, args.database_url
    );
    ok &= health.status == 200;
    print!("{table}");
    println!("verdict: {}", if ok { "within bounds" } else { "OVER" });
    std::fs::write(args.out_dir.join("uploads.md"), &table).map_err(|e| e.to_string())?;
    Ok(ok)
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
