//! Test harness: every API test runs through the real router against a fresh
//! SQLite file and a fresh PostgreSQL database, dropped afterwards.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use kiemke::{
    app, build_state, clock::FixedClock, config::Settings, db, forms::Registry, state::AppState,
};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tower::ServiceExt;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application with its own database.
#[derive(Clone)]
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: FixedClock,
    pub backend: Backend,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
#[cfg(kiemke_no_test_db)]
static SKIP_NOTICE: std::sync::Once = std::sync::Once::new();

/// Default "now" of tests: 10/02/2026 09:00 in Vietnam, inside the demo campaign.
pub fn default_now() -> DateTime<Utc> {
    at("2026-02-10T09:00:00+07:00")
}

/// Parses an RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn unique_name() -> String {
    format!(
        "kiemke_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_subsec_nanos()
    )
}

/// A test database, dropped by [`drop_database`].
pub struct Resource {
    backend: Backend,
    name: String,
    server_url: Option<String>,
}

/// Creates a fresh, empty database and returns its URL (`None`: PostgreSQL runs are skipped).
pub async fn create_database(backend: Backend) -> Option<(String, Resource)> {
    let name = unique_name();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            Some((
                url,
                Resource {
                    backend,
                    name: path.display().to_string(),
                    server_url: None,
                },
            ))
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
                if in_ci() {
                    panic!(
                        "CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests cannot be skipped in CI"
                    );
                }
                // Built with TEST_DATABASE_URL (so not marked ignored) but run without it: a
                // silent skip would count as a pass.
                #[cfg(not(kiemke_no_test_db))]
                panic!(
                    "the tests were built with TEST_DATABASE_URL but run without it: set it, or rebuild"
                );
                #[cfg(kiemke_no_test_db)]
                {
                    SKIP_NOTICE.call_once(|| {
                        eprintln!(
                            "TEST_DATABASE_URL not set: PostgreSQL runs of the API tests are skipped"
                        );
                    });
                    return None;
                }
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
                Resource {
                    backend,
                    name,
                    server_url: Some(server),
                },
            ))
        }
    }
}

/// Deletes a test database (the SQLite file and its WAL, or the PostgreSQL database).
pub async fn drop_database(r: Resource) {
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

/// Whether this run is CI's (`CI=true`), where nothing a test needs may be missing.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether `program` can be run (`program --version` starts). When it cannot, a test that needs it
/// says so and is skipped, except under `CI=true`, where this panics: CI must run every test
/// (`.ci/run` installs what they need; docs/RELIABILITY.md lists which test needs what).
pub fn require_program(program: &str, package: &str, test: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            !in_ci(),
            "CI=true but `{program}` is missing: {test} cannot run (Debian package {package}; .ci/run installs it)"
        );
        eprintln!("`{program}` is not installed ({package}): {test} is skipped");
    }
    found
}

/// Whether fontconfig knows `family` (as `require_program`: a skip line outside CI, a failure
/// under `CI=true`). Without it LibreOffice substitutes a wider font and the printed form's
/// layout is not the one a user's office prints.
pub fn require_font(family: &str, package: &str, test: &str) -> bool {
    let found = std::process::Command::new("fc-list")
        .arg(family)
        .output()
        .is_ok_and(|out| out.status.success() && !out.stdout.is_empty());
    if !found {
        assert!(
            !in_ci(),
            "CI=true but the font {family} is missing: {test} cannot run (Debian package {package}; .ci/run installs it)"
        );
        eprintln!("the font {family} is not installed ({package}): {test} is skipped");
    }
    found
}

/// Test settings: fast password hashing, otherwise the defaults.
pub fn test_settings() -> Settings {
    Settings {
        argon2_memory_kib: 8,
        insecure_argon2_for_tests: true,
        upload_limit: 2 * 1024 * 1024,
        ..Settings::default()
    }
}

/// The hot standby the PostgreSQL runs read through, when `TEST_READ_DATABASE_URL` names one
/// (`bench/replica.sh start`): each test's database is attached as its read replica.
fn read_replica_server() -> Option<String> {
    std::env::var("TEST_READ_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Tests that pause the standby's replay hold it exclusively: the pause stops the replay of
/// every database, and the other tests wait for the replica before each request.
static REPLICA_GATE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn base_url(server: &str) -> String {
    server
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(server.to_string())
}

/// Attaches the standby's copy of database `name` as `state`'s read replica, once the standby has
/// replayed its creation and migrations.
async fn attach_replica(state: &mut AppState, server: &str, name: &str) {
    let url = format!("{}/{name}", base_url(server));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match kiemke::replica::attach(state, &url, 4).await {
            Ok(()) => break,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("the read replica never had the test database {name}: {e}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    wait_until_replayed_state(state).await;
}

async fn lsn_of(db: &sea_orm::DatabaseConnection, sql: &str) -> Option<i64> {
    db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        sql.to_string(),
    ))
    .await
    .expect("WAL position")
    .and_then(|r| r.try_get::<Option<i64>>("", "lsn").expect("lsn"))
}

async fn wait_until_replayed_state(state: &AppState) {
    let Some(replica) = &state.replica else {
        return;
    };
    let target = lsn_of(
        &state.db,
        "SELECT CAST(pg_current_wal_flush_lsn() - '0/0'::pg_lsn AS BIGINT) AS lsn",
    )
    .await
    .expect("primary position");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let replayed = lsn_of(
            &replica.db,
            "SELECT CAST(pg_last_wal_replay_lsn() - '0/0'::pg_lsn AS BIGINT) AS lsn",
        )
        .await
        .expect("a standby");
        if replayed >= target {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the read replica did not replay the primary's WAL within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

async fn replay_paused(state: &AppState) -> bool {
    let Some(replica) = &state.replica else {
        return false;
    };
    replica
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_is_wal_replay_paused() AS paused".to_string(),
        ))
        .await
        .expect("replay state")
        .map(|r| r.try_get::<bool>("", "paused").expect("paused"))
        .unwrap_or(false)
}

async fn replay_control(app: &TestApp, function: &str) {
    let replica = app.state.replica.as_ref().expect("a replica");
    replica
        .db
        .execute_unprepared(&format!("SELECT {function}()"))
        .await
        .expect("replay control");
}

/// Waits until the read replica has replayed everything the primary has written (nothing
/// without a replica).
pub async fn wait_until_replayed(app: &TestApp) {
    wait_until_replayed_state(&app.state).await;
}

/// Pauses the standby's replay (`pg_wal_replay_pause()`): it lags from now on.
pub async fn pause_replay(app: &TestApp) {
    replay_control(app, "pg_wal_replay_pause").await;
}

/// Resumes the standby's replay.
pub async fn resume_replay(app: &TestApp) {
    replay_control(app, "pg_wal_replay_resume").await;
}

/// Runs `body` on PostgreSQL with the read replica of `TEST_READ_DATABASE_URL`, holding the
/// replica alone (so it may pause the replay, which is resumed afterwards in any case). Without
/// the variable the test says so and is skipped, except under `CI=true`, where it fails.
pub async fn run_with_paused_replica<F, Fut>(body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if read_replica_server().is_none() || std::env::var("TEST_DATABASE_URL").is_err() {
        assert!(
            !in_ci(),
            "CI=true but TEST_READ_DATABASE_URL (a standby of TEST_DATABASE_URL) is not set: \
             .ci/run starts one with bench/replica.sh"
        );
        eprintln!(
            "TEST_DATABASE_URL and TEST_READ_DATABASE_URL (bench/replica.sh start) are not both set: \
             the replica test is skipped"
        );
        return;
    }
    run_inner(Backend::Postgres, true, body).await
}

/// Runs `body` against a fresh application on `backend`, then drops the database, even if `body` panics.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    run_inner(backend, false, body).await
}

async fn run_inner<F, Fut>(backend: Backend, exclusive: bool, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some((url, resource)) = create_database(backend).await else {
        return;
    };
    let conn = db::connect(&url).await.expect("connect to test database");
    db::migrate(&conn).await.expect("migrate test database");
    let clock = FixedClock::new(default_now());
    let forms = Arc::new(Registry::embedded().expect("built-in forms load"));
    let mut state = build_state(
        conn.clone(),
        forms,
        Arc::new(clock.clone()),
        test_settings(),
    )
    .expect("policy");
    let replica_server = match backend {
        Backend::Postgres => read_replica_server(),
        Backend::Sqlite => None,
    };
    let (_shared, _alone) = match (&replica_server, exclusive) {
        (None, _) => (None, None),
        (Some(_), false) => (Some(REPLICA_GATE.read().await), None),
        (Some(_), true) => (None, Some(REPLICA_GATE.write().await)),
    };
    if let Some(server) = &replica_server {
        attach_replica(&mut state, server, &resource.name).await;
    }
    let app = TestApp {
        router: app::app(state.clone()),
        state,
        clock,
        backend,
    };
    let replica = state_replica(&app);
    let outcome = tokio::spawn(body(app)).await;
    if let Some(replica) = replica {
        if exclusive {
            let _ = replica
                .execute_unprepared("SELECT pg_wal_replay_resume()")
                .await;
        }
        replica.close().await.ok();
    }
    conn.close().await.ok();
    drop_database(resource).await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn state_replica(app: &TestApp) -> Option<sea_orm::DatabaseConnection> {
    app.state.replica.as_ref().map(|r| r.db.clone())
}

/// Declares one test that runs on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* $name:ident, |$app:ident| $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, |$app| async move $body).await
            }

            #[tokio::test]
            #[cfg_attr(kiemke_no_test_db, ignore = "TEST_DATABASE_URL was not set at build time")]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, |$app| async move $body).await
            }
        }
    };
}

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Content type.
    pub fn content_type(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts the status and the problem type (`/problems/<slug>`): several problems share a
    /// status (409: conflict, invalid-state, stale-version, locked; 422: validation,
    /// import-file, import-rejected; 400: bad-request, malformed-json), so the status alone
    /// does not say which refusal it was.
    #[track_caller]
    pub fn problem(self, status: u16, slug: &str) -> Self {
        let res = self.expect(status);
        assert_eq!(
            res.content_type(),
            "application/problem+json",
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        assert_eq!(
            res.json()["type"],
            format!("/problems/{slug}"),
            "unexpected problem; body: {}",
            String::from_utf8_lossy(&res.body)
        );
        res
    }

    /// Field paths listed in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A request being built.
pub struct Call {
    router: Router,
    /// The state, when it has a read replica: the request waits for the replica to replay what
    /// the test wrote directly (unless its replay is paused).
    replica: Option<AppState>,
    builder: axum::http::request::Builder,
    body: Body,
}

impl Call {
    /// Sends a bearer token.
    pub fn token(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// Sends a JSON body.
    pub fn json(mut self, value: &Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(serde_json::to_vec(value).expect("json"));
        self
    }

    /// Sends raw bytes with a content type.
    pub fn raw(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        if !content_type.is_empty() {
            self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        }
        self.body = Body::from(bytes);
        self
    }

    /// Sends the request through the router.
    pub async fn send(self) -> Res {
        if let Some(state) = &self.replica
            && !replay_paused(state).await
        {
            wait_until_replayed_state(state).await;
        }
        let req: Request<Body> = self.builder.body(self.body).expect("request");
        let res = self.router.oneshot(req).await.expect("router never fails");
        let status = res.status();
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
}

impl TestApp {
    /// Starts a request.
    pub fn call(&self, method: &str, path: &str) -> Call {
        Call {
            router: self.router.clone(),
            replica: self.state.replica.is_some().then(|| self.state.clone()),
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    /// Logs in and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .call("POST", "/api/v1/auth/login")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect(200);
        res.json()["token"].as_str().expect("token").to_string()
    }

    /// Creates the first admin (password `admin-password-1`) and returns its token.
    pub async fn admin(&self) -> String {
        kiemke::users::bootstrap_admin(&self.state, Some(ADMIN_PASSWORD.into()))
            .await
            .expect("bootstrap admin");
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` (and units) as admin, logs them in, returns the token.
    pub async fn user(&self, admin: &str, username: &str, role: &str, unit_ids: &[i64]) -> String {
        self.call("POST", "/api/v1/users")
            .token(admin)
            .json(&serde_json::json!({
                "username": username, "full_name": username, "role": role,
                "unit_ids": unit_ids, "password": USER_PASSWORD
            }))
            .send()
            .await
            .expect(201);
        self.login(username, USER_PASSWORD).await
    }

    /// Loads the demo ward (password `demo-password-1`) and returns the campaign id.
    pub async fn demo(&self) -> i64 {
        kiemke::demo::load(&self.state, Some(DEMO_PASSWORD.into()))
            .await
            .expect("demo loads")
            .campaign_id
    }

    /// Creates a unit as admin and returns its id.
    pub async fn unit(&self, admin: &str, code: &str, name: &str) -> i64 {
        self.call("POST", "/api/v1/units")
            .token(admin)
            .json(&serde_json::json!({"code": code, "name": name, "kind": "state_agency"}))
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// Creates the round-2 campaign as admin and returns its id.
    pub async fn campaign(&self, admin: &str) -> i64 {
        self.call("POST", "/api/v1/campaigns")
            .token(admin)
            .json(&serde_json::json!({
                "name": "Tổng kiểm kê 2026", "authority_name": "UBND PHƯỜNG TAM THANH", "place_name": "Tam Thanh",
                "cutoff_at": "2026-01-01T00:00:00+07:00",
                "registration_deadline": "2026-03-31", "submission_deadline": "2026-03-31"
            }))
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// Registers `unit_id` for `types` as admin.
    pub async fn register(
        &self,
        admin: &str,
        campaign_id: i64,
        unit_id: i64,
        types: &[&str],
    ) -> Value {
        let res = self.call("PUT", &format!("/api/v1/campaigns/{campaign_id}/units/{unit_id}/registration"))
            .token(admin)
            .json(&serde_json::json!({
                "team_decision_no": "01/QĐ-TKK", "team_decision_date": "2026-01-12",
                "team_members": [{"name": "Nguyễn Văn A", "position": "Kế toán", "team_role": "Tổ trưởng"}],
                "asset_types": types
            }))
            .send()
            .await;
        assert!(
            res.status.is_success(),
            "registration failed: {}",
            String::from_utf8_lossy(&res.body)
        );
        res.json()
    }
}

/// The administrative tree (issue 16): provinces, wards, units placed in them, and accounts
/// bound to a node. Every helper goes through the API as the admin.
impl TestApp {
    /// Creates a province (2-digit code) and returns its id.
    pub async fn province(&self, admin: &str, code: &str, name: &str) -> i64 {
        self.call("POST", "/api/v1/nodes")
            .token(admin)
            .json(&serde_json::json!({"code": code, "name": name, "level": "province"}))
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// Creates a commune/ward (5-digit code) under the province `province_code`; returns its id.
    pub async fn ward(&self, admin: &str, code: &str, name: &str, province_code: &str) -> i64 {
        self.call("POST", "/api/v1/nodes")
            .token(admin)
            .json(
                &serde_json::json!({"code": code, "name": name, "level": "ward",
                                      "parent_code": province_code}),
            )
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// Places (or moves) the unit `unit_id` in the ward `ward_code`; returns the unit's view.
    pub async fn place(&self, admin: &str, unit_id: i64, ward_code: &str) -> Value {
        self.call("PATCH", &format!("/api/v1/units/{unit_id}"))
            .token(admin)
            .json(&serde_json::json!({"ward_code": ward_code}))
            .send()
            .await
            .expect(200)
            .json()
    }

    /// Creates a unit placed in the ward `ward_code` and returns its id.
    pub async fn unit_in(&self, admin: &str, code: &str, name: &str, ward_code: &str) -> i64 {
        self.call("POST", "/api/v1/units")
            .token(admin)
            .json(
                &serde_json::json!({"code": code, "name": name, "kind": "state_agency",
                                      "ward_code": ward_code}),
            )
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// Creates a finance officer or viewer (`role`) bound to the node `node_code`, logs them
    /// in and returns the token.
    pub async fn bound_user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        node_code: &str,
    ) -> String {
        self.call("POST", "/api/v1/users")
            .token(admin)
            .json(&serde_json::json!({
                "username": username, "full_name": username, "role": role,
                "node_code": node_code, "password": USER_PASSWORD
            }))
            .send()
            .await
            .expect(201);
        self.login(username, USER_PASSWORD).await
    }
}

/// Password of the bootstrap admin in tests.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// Password of users created by [`TestApp::user`].
pub const USER_PASSWORD: &str = "user-password-1";
/// Password of the demo users.
pub const DEMO_PASSWORD: &str = "demo-password-1";

/// Moves the clock to `instant` and logs the admin in again: a token of an earlier instant may
/// have expired.
pub async fn relogin(app: &TestApp, instant: &str) -> String {
    app.clock.set(at(instant));
    app.login("admin", ADMIN_PASSWORD).await
}
