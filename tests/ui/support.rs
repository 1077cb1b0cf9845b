//! Browser test harness: the real application served on 127.0.0.1:0 (a fresh SQLite file or a fresh
//! PostgreSQL database per test, the demo ward loaded with known passwords), Debian's chromedriver started
//! once per test process, one headless Chromium session per test, and axe-core run on every page a test visits.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex, Once, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Body, http::Request};
use chrono::{DateTime, Utc};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use kiemke::{app, build_state, clock::FixedClock, config::Settings, db, forms::Registry};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tower::ServiceExt;

pub use kiemke::state::AppState;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Password of every demo account in the UI tests.
pub const DEMO_PASSWORD: &str = "demo-password-1";
/// The demo accountant of unit 1109302 (types 01 and 02).
pub const ACCOUNTANT: &str = "ketoan.kinhte";
/// The demo accountant of unit 1109301 (type 01): the "foreign" unit of the isolation tests.
pub const OTHER_ACCOUNTANT: &str = "ketoan.vanphong";
/// The ward's finance officer.
pub const FINANCE: &str = "taichinh";

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The vendored axe-core (npm `axe-core`, MPL-2.0), used only by these tests.
const AXE: &str = include_str!("vendor/axe.min.js");

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SKIP_NOTICE: Once = Once::new();
static PG_SKIP_NOTICE: Once = Once::new();

fn next() -> u32 {
    COUNTER.fetch_add(1, Ordering::SeqCst)
}

/// Scratch space under the target directory (TMPDIR of chromedriver and Chromium, profiles, downloads).
pub fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui");
    std::fs::create_dir_all(&dir).expect("create target/tmp/ui");
    dir
}

/// "Now" of the UI tests: 10/02/2026 09:00 in Vietnam, inside the demo campaign.
pub fn default_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-02-10T09:00:00+07:00")
        .expect("instant")
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// chromedriver
// ---------------------------------------------------------------------------------------------

/// The chromedriver of this test process, or why there is none.
static DRIVER: OnceLock<Result<String, String>> = OnceLock::new();

/// Whether a browser is there. Without one the UI tests print one skip line and pass, except under
/// `CI=true`, where a missing browser fails the test.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMEDRIVER, CHROMIUM]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but {} missing: install the Debian packages chromium and chromium-driver",
            missing.join(" and ")
        );
    }
    SKIP_NOTICE.call_once(|| {
        eprintln!(
            "UI tests skipped: {} not installed (apt-get install chromium chromium-driver fonts-noto-mono)",
            missing.join(" and ")
        );
    });
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// Starts chromedriver once per test process. It runs from a thread that lives as long as the
/// process and is killed with it (`PR_SET_PDEATHSIG`), so no driver outlives a test run.
fn driver_url() -> String {
    DRIVER
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Result<String, String>>();
            std::thread::Builder::new()
                .name("chromedriver".into())
                .spawn(move || {
                    let port = free_port();
                    let tmp = scratch();
                    let mut cmd = Command::new(CHROMEDRIVER);
                    cmd.arg(format!("--port={port}"))
                        .arg("--allowed-ips=127.0.0.1")
                        .env("TMPDIR", &tmp)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null());
                    // SAFETY: prctl is async-signal-safe; it only asks the kernel to signal the child
                    // when this (never-ending) thread's process goes away.
                    unsafe {
                        use std::os::unix::process::CommandExt;
                        cmd.pre_exec(|| {
                            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                            Ok(())
                        });
                    }
                    let child: Child = match cmd.spawn() {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = tx.send(Err(format!("cannot start {CHROMEDRIVER}: {e}")));
                            return;
                        }
                    };
                    // Wait until it listens.
                    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
                    let mut ready = false;
                    for _ in 0..200 {
                        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100))
                            .is_ok()
                        {
                            ready = true;
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let _ = tx.send(if ready {
                        Ok(format!("http://127.0.0.1:{port}"))
                    } else {
                        Err("chromedriver did not listen within 10 s".into())
                    });
                    let _keep = child;
                    loop {
                        std::thread::park();
                    }
                })
                .expect("spawn the chromedriver thread");
            rx.recv()
                .unwrap_or_else(|_| Err("chromedriver thread died".into()))
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// The application
// ---------------------------------------------------------------------------------------------

struct DbResource {
    backend: Backend,
    name: String,
    server_url: Option<String>,
}

async fn create_database(backend: Backend) -> Option<(String, DbResource)> {
    let name = format!(
        "kiemke_ui_{}_{}_{}",
        std::process::id(),
        next(),
        Utc::now().timestamp_subsec_nanos()
    );
    match backend {
        Backend::Sqlite => {
            let path = scratch().join(format!("{name}.db"));
            Some((
                format!("sqlite://{}?mode=rwc", path.display()),
                DbResource {
                    backend,
                    name: path.display().to_string(),
                    server_url: None,
                },
            ))
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!(
                        "CI=true but TEST_DATABASE_URL is not set: PostgreSQL UI tests cannot be skipped in CI"
                    );
                }
                PG_SKIP_NOTICE.call_once(|| {
                    eprintln!(
                        "TEST_DATABASE_URL not set: PostgreSQL runs of the UI tests are skipped"
                    )
                });
                return None;
            };
            let admin = Database::connect(&server)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"));
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = server
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(server.clone());
            Some((
                format!("{base}/{name}"),
                DbResource {
                    backend,
                    name,
                    server_url: Some(server),
                },
            ))
        }
    }
}

async fn drop_database(r: DbResource) {
    match r.backend {
        Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", r.name));
            }
        }
        Backend::Postgres => {
            if let Some(server) = r.server_url
                && let Ok(admin) = Database::connect(&server).await
            {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", r.name))
                    .await;
                admin.close().await.ok();
            }
        }
    }
}

/// Browser sessions of a test with the folders to remove after it.
type Sessions = Arc<Mutex<Vec<(Client, Vec<PathBuf>)>>>;

/// The application under test, served on a local port.
#[derive(Clone)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub state: AppState,
    pub router: Router,
    pub clock: FixedClock,
    pub backend: Backend,
    /// The demo campaign.
    pub campaign_id: i64,
    /// Open browser sessions with their profile and download folders, closed and removed after the test.
    sessions: Sessions,
}

/// Settings of the UI tests: fast password hashing, otherwise the defaults.
pub fn test_settings() -> Settings {
    Settings {
        argon2_memory_kib: 8,
        insecure_argon2_for_tests: true,
        upload_limit: 2 * 1024 * 1024,
        ..Settings::default()
    }
}

/// Runs `body` against a fresh application with the demo ward on `backend`, with a browser at hand;
/// closes every browser session and drops the database afterwards, even when `body` panics.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !browser_available() {
        return;
    }
    let Some((url, resource)) = create_database(backend).await else {
        return;
    };
    let conn = db::connect(&url).await.expect("connect to test database");
    db::migrate(&conn).await.expect("migrate test database");
    let clock = FixedClock::new(default_now());
    let forms = Arc::new(Registry::embedded().expect("built-in forms load"));
    let state = build_state(
        conn.clone(),
        forms,
        Arc::new(clock.clone()),
        test_settings(),
    )
    .expect("policy");
    let campaign_id = kiemke::demo::load(&state, Some(DEMO_PASSWORD.into()))
        .await
        .expect("demo loads")
        .campaign_id;
    let router = app::app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let server = tokio::spawn(
        axum::serve(
            listener,
            router
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .into_future(),
    );
    let app = TestApp {
        base: format!("http://{addr}"),
        state,
        router,
        clock,
        backend,
        campaign_id,
        sessions: Arc::default(),
    };
    let sessions = Arc::clone(&app.sessions);
    let outcome = tokio::spawn(body(app)).await;
    let open = std::mem::take(&mut *sessions.lock().expect("sessions"));
    for (client, dirs) in open {
        let _ = client.close().await;
        for d in dirs {
            // Chromium may still be writing its profile for a moment after the session ends.
            for _ in 0..10 {
                if std::fs::remove_dir_all(&d).is_ok() || !d.exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    server.abort();
    conn.close().await.ok();
    drop_database(resource).await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares one browser test that runs on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! ui_test {
    ($(#[$meta:meta])* $name:ident, |$app:ident| $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, |$app| async move $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, |$app| async move $body).await
            }
        }
    };
}

/// A response read whole (requests sent straight to the router, as an attacker's tool would).
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text()))
    }
}

impl TestApp {
    /// A URL of the application.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends one request straight to the router.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Res {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let res = self
            .router
            .clone()
            .oneshot(b.body(Body::from(body)).expect("request"))
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

    /// Logs in through the JSON API and returns a bearer token.
    pub async fn api_login(&self, username: &str) -> String {
        let res = self
            .request(
                "POST",
                "/api/v1/auth/login",
                &[("content-type", "application/json")],
                serde_json::to_vec(&json!({"username": username, "password": DEMO_PASSWORD}))
                    .expect("json"),
            )
            .await;
        assert_eq!(res.status, 200, "API login failed: {}", res.text());
        res.json()["token"].as_str().expect("token").to_string()
    }

    /// Calls the JSON API with a bearer token.
    pub async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Res {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        let bytes = match body {
            Some(v) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(&v).expect("json")
            }
            None => Vec::new(),
        };
        self.request(method, path, &headers, bytes).await
    }

    /// The id of a demo unit by its code.
    pub async fn unit_id(&self, code: &str) -> i64 {
        use kiemke::entities::unit;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        unit::Entity::find()
            .filter(unit::Column::Code.eq(code))
            .one(&self.state.db)
            .await
            .expect("query units")
            .unwrap_or_else(|| panic!("demo unit {code}"))
            .id
    }

    /// Opens a new browser session (own profile, own download folder) at 1280×900.
    pub async fn browser(&self) -> Page {
        let n = next();
        let profile = scratch().join(format!("profile-{}-{n}", std::process::id()));
        let downloads = scratch().join(format!("downloads-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--lang=vi-VN", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "intl.accept_languages": "vi-VN,vi",
                }
            }
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url())
            .await
            .unwrap_or_else(|e| panic!("a Chromium session: {e}"));
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("timeouts");
        self.sessions.lock().expect("sessions").push((
            client.clone(),
            vec![
                profile.clone(),
                downloads.clone(),
                downloads.with_extension("uploads"),
            ],
        ));
        Page {
            client,
            base: self.base.clone(),
            downloads,
            axe: true,
        }
    }

    /// A browser session logged in as `username` (through the login form), on the page after login.
    pub async fn logged_in(&self, username: &str) -> Page {
        let page = self.browser().await;
        page.login(username, DEMO_PASSWORD).await;
        page
    }
}

// ---------------------------------------------------------------------------------------------
// A browser page
// ---------------------------------------------------------------------------------------------

/// One browser session. Every helper that leads to a new page (or an htmx swap) runs axe-core on
/// what the browser shows and fails the test on any violation.
pub struct Page {
    pub client: Client,
    pub base: String,
    /// Where this session's downloads land.
    pub downloads: PathBuf,
    /// Whether pages are checked with axe-core (screenshots of error pages may turn it off).
    pub axe: bool,
}

impl Page {
    /// Opens `path` (relative to the application) and checks the page.
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.loaded().await;
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Waits for the document to be complete and htmx to be idle, then runs axe.
    pub async fn loaded(&self) {
        for _ in 0..200 {
            let ready = self
                .client
                .execute(
                    "return document.readyState === 'complete' && \
                     !document.querySelector('.htmx-request');",
                    vec![],
                )
                .await
                .map(|v| v.as_bool() == Some(true))
                .unwrap_or(false);
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if self.axe {
            self.check_accessibility().await;
        }
    }

    /// Runs axe-core on the page; panics listing every violation (any impact).
    pub async fn check_accessibility(&self) {
        let violations = self.accessibility_violations().await;
        if !violations.is_empty() {
            let path = self.path().await;
            panic!(
                "axe-core: {} accessibility violation(s) on {path}:\n{}",
                violations.len(),
                violations.join("\n")
            );
        }
    }

    /// Runs axe-core (all rules but the experimental ones) on the page and lists its violations.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let has = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await
            .expect("probe axe");
        if has.as_bool() != Some(true) {
            self.client
                .execute(&format!("{AXE}\n;return true;"), vec![])
                .await
                .expect("inject axe-core");
        }
        let out = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                   .then(r => done(r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.failureSummary)
                   }))))
                   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        out.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|v| {
                format!(
                    "  [{}] {}: {}\n{}",
                    v["impact"].as_str().unwrap_or("?"),
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    v["nodes"]
                        .as_array()
                        .map(|n| n
                            .iter()
                            .map(|x| format!("      {}", x.as_str().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join("\n"))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    /// Finds one element by CSS selector (waiting up to 5 s for it).
    pub async fn find(&self, css: &str) -> Element {
        for _ in 0..100 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let path = self.path().await;
        let body = self.text("body").await;
        panic!("no element `{css}` on {path}; the page says:\n{body}")
    }

    /// Whether an element matching `css` is on the page now.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// All elements matching `css`.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The value of a form control.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Replaces the value of a text input.
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Picks an option of a select by its value.
    pub async fn select(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Clicks a link or button and waits for the page it leads to, then checks it.
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.mark().await;
        e.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.settle().await;
    }

    /// Clicks a control that changes the page in place (a radio button, a checkbox): no navigation awaited.
    pub async fn pick(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the link or button whose visible text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!(
            "//*[self::a or self::button or (self::input and @type='submit')][contains(normalize-space(.), {0}) or contains(@value, {0})]",
            xpath_literal(text)
        );
        let mut found = None;
        for _ in 0..100 {
            if let Ok(e) = self.client.find(Locator::XPath(&xpath)).await {
                found = Some(e);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let Some(e) = found else {
            let path = self.path().await;
            let body = self.text("body").await;
            panic!("no link or button «{text}» on {path}; the page says:\n{body}")
        };
        self.mark().await;
        e.click()
            .await
            .unwrap_or_else(|e| panic!("click «{text}»: {e}"));
        self.settle().await;
    }

    /// Marks the current document so that [`settle`] can tell when it was replaced.
    pub async fn mark(&self) {
        let _ = self
            .client
            .execute("window.__kiemke_old = true;", vec![])
            .await;
    }

    /// Waits until the marked document is gone (a navigation; up to 10 s on a busy machine), then for
    /// the new page to be complete and htmx idle, then checks the page.
    pub async fn settle(&self) {
        for _ in 0..200 {
            let gone = self
                .client
                .execute("return !window.__kiemke_old;", vec![])
                .await
                .map(|v| v.as_bool() == Some(true))
                // A navigation in progress may refuse scripts for a moment.
                .unwrap_or(false);
            if gone {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.loaded().await;
    }

    /// Presses keys on the focused element (WebDriver key codes such as `\u{E004}` for Tab).
    pub async fn keys(&self, keys: &str) {
        let e = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        e.send_keys(keys).await.expect("send keys");
    }

    /// Logs in through the login form.
    pub async fn login(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("input[name=username]", username).await;
        self.fill("input[name=password]", password).await;
        self.click("form button[type=submit], form input[type=submit]")
            .await;
    }

    /// The whole visible text of the page.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Waits up to 15 s for a download whose name ends with `suffix` and returns its path.
    pub async fn downloaded(&self, suffix: &str) -> PathBuf {
        for _ in 0..300 {
            if let Ok(rd) = std::fs::read_dir(&self.downloads) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.ends_with(suffix) && !name.ends_with(".crdownload") {
                        return e.path();
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no *{suffix} download in {}", self.downloads.display())
    }

    /// The session cookie(s) of this browser, as a `Cookie` header value.
    pub async fn cookie_header(&self) -> String {
        self.client
            .get_all_cookies()
            .await
            .expect("cookies")
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Takes a PNG screenshot of the whole page at `width` CSS px wide (the window grows to the page's height).
    pub async fn screenshot(&self, width: u32, out: &Path) {
        self.client
            .set_window_size(width, 900)
            .await
            .expect("resize window");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let height = self
            .client
            .execute(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight) + (window.outerHeight - window.innerHeight));",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(900)
            .clamp(400, 8000) as u32;
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize window");
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(out, png).expect("write screenshot");
    }
}

/// An XPath string literal for any text.
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!(
            "concat('{}')",
            s.split('\'').collect::<Vec<_>>().join("', \"'\", '")
        )
    }
}

/// WebDriver key codes.
pub mod key {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SPACE: &str = "\u{E00D}";
    pub const DOWN: &str = "\u{E015}";
}
