//! A minimal HTTP/1.1 client (one request per connection) and a handle on the real
//! `kiemke` binary, for the tests that need a process to kill: no client crate needed.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// An answer read whole.
#[derive(Debug)]
pub struct HttpRes {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRes {
    /// The body as JSON (panics with the text when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The bytes of a request (`Connection: close`, so the answer ends at EOF).
pub fn request_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Vec<u8> {
    let body = body.map(|b| serde_json::to_vec(b).expect("json"));
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = &body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend(body.unwrap_or_default());
    out
}

/// Sends one request and reads the answer.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<HttpRes> {
    let bytes = request_bytes(addr, method, path, token, body);
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&bytes).await?;
    read_answer(stream).await
}

/// Reads an answer up to EOF and parses it.
pub async fn read_answer(mut stream: TcpStream) -> std::io::Result<HttpRes> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&raw)),
        )
    })
}

fn parse(raw: &[u8]) -> Option<HttpRes> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let eol = rest[at..].windows(2).position(|w| w == b"\r\n")? + at;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[at..eol]).ok()?.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(eol + 2..eol + 2 + size)?);
            at = eol + 2 + size + 2;
        }
        body
    } else {
        rest.to_vec()
    };
    Some(HttpRes {
        status,
        headers,
        body,
    })
}

/// A free port on the loopback interface (bound, read, released).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address")
}

/// Password of the admin of a spawned server.
pub const SERVER_ADMIN_PASSWORD: &str = "server-admin-password";

/// The real `kiemke serve`, in its own process.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts `kiemke serve` on a free port against `database_url` and waits until `/health` answers 200.
    pub async fn start(database_url: &str, extra: &[&str], log_dir: &Path) -> Server {
        let addr = free_addr();
        std::fs::create_dir_all(log_dir).expect("log dir");
        let log = log_dir.join(format!("server-{}.log", addr.port()));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kiemke"))
            .arg("serve")
            .arg("--bind")
            .arg(addr.to_string())
            .args(extra)
            .env("DATABASE_URL", database_url)
            .env("KIEMKE_ADMIN_PASSWORD", SERVER_ADMIN_PASSWORD)
            .env("KIEMKE_DEMO_PASSWORD", crate::support::DEMO_PASSWORD)
            .env("KIEMKE_ARGON2_MEMORY_KIB", "8")
            .env("KIEMKE_INSECURE_ARGON2_FOR_TESTS", "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("spawn kiemke");
        let mut s = Server { child, addr, log };
        s.wait_healthy(Duration::from_secs(60)).await;
        s
    }

    /// Waits until `/health` answers 200; panics with the log if the process dies first.
    pub async fn wait_healthy(&mut self, within: Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("kiemke exited ({status}) while starting:\n{}", self.log());
            }
            if let Ok(res) = send(self.addr, "GET", "/health", None, None).await
                && res.status == 200
            {
                return;
            }
            assert!(
                start.elapsed() < within,
                "kiemke did not become healthy in {within:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM: the graceful shutdown.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid");
        // SAFETY: sending a signal to our own child process; no memory is involved.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(rc, 0, "SIGTERM");
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the process to exit.
    pub async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s;
            }
            assert!(
                start.elapsed() < within,
                "kiemke did not exit in {within:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the process printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Logs in and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = send(
            self.addr,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&serde_json::json!({"username": username, "password": password})),
        )
        .await
        .expect("login request");
        assert_eq!(
            res.status,
            200,
            "login: {}",
            String::from_utf8_lossy(&res.body)
        );
        res.json()["token"].as_str().expect("token").to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
