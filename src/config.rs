//! Command line and environment: every setting has a flag, an `env` name and a default.

use clap::{Args, Parser, Subcommand};

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
    Data(crate::backup::BackupCommand),
    /// Write a form, the flat upload layout, a consolidated report or the progress board to an .xlsx file.
    Export(ExportArgs),
    /// Import an .xlsx or .csv file into a unit's assets (all rows or none).
    Import(ImportArgs),
    /// Fill the database with a deterministic national-scale dataset (for benchmarks).
    Generate(crate::generate::GenerateArgs),
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

/// Run-time settings of the HTTP service.
#[derive(Debug, Args, Clone)]
pub struct Settings {
    /// Password of the first admin, used only when the database has no user yet (generated and printed when absent).
    #[arg(long, env = "KIEMKE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Largest JSON body accepted, in bytes.
    #[arg(long, env = "KIEMKE_JSON_LIMIT", default_value_t = 1024 * 1024)]
    pub json_limit: usize,
    /// Largest uploaded file accepted, in bytes.
    #[arg(long, env = "KIEMKE_UPLOAD_LIMIT", default_value_t = 32 * 1024 * 1024)]
    pub upload_limit: usize,
    /// Seconds a request may take before it is answered with 503.
    #[arg(long, env = "KIEMKE_REQUEST_TIMEOUT", default_value_t = 120)]
    pub request_timeout_secs: u64,
    /// Hours an access token stays valid.
    #[arg(long, env = "KIEMKE_TOKEN_HOURS", default_value_t = 12)]
    pub token_hours: i64,
    /// Marks the web session cookie `Secure` (set it when the service is reached over HTTPS).
    #[arg(long, env = "KIEMKE_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,
    /// Origins allowed to call the API from a browser (comma separated); none by default.
    #[arg(long, env = "KIEMKE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Memory cost of password hashing in KiB (argon2id; 19456 is OWASP's minimum).
    #[arg(
        long,
        env = "KIEMKE_ARGON2_MEMORY_KIB",
        default_value_t = 19456,
        hide = true
    )]
    pub argon2_memory_kib: u32,
    /// Allows an argon2 memory cost below [`ARGON2_MIN_MEMORY_KIB`]: for tests only.
    #[arg(long, env = "KIEMKE_INSECURE_ARGON2_FOR_TESTS", hide = true,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure_argon2_for_tests: bool,
    /// Reverse proxies whose `X-Forwarded-For` gives the client's address (comma separated
    /// addresses or networks, e.g. `127.0.0.1,10.0.0.0/8`); none by default.
    #[arg(long, env = "KIEMKE_TRUSTED_PROXIES", default_value = "", value_parser = crate::auth::client::TrustedProxies::parse)]
    pub trusted_proxies: crate::auth::client::TrustedProxies,
}

/// OWASP's minimum memory cost for argon2id (19 MiB): below it the service refuses to start,
/// unless `KIEMKE_INSECURE_ARGON2_FOR_TESTS` is set.
pub const ARGON2_MIN_MEMORY_KIB: u32 = 19456;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            admin_password: None,
            json_limit: 1024 * 1024,
            upload_limit: 32 * 1024 * 1024,
            request_timeout_secs: 120,
            token_hours: 12,
            cookie_secure: false,
            cors_origins: vec![],
            argon2_memory_kib: ARGON2_MIN_MEMORY_KIB,
            insecure_argon2_for_tests: false,
            trusted_proxies: Default::default(),
        }
    }
}
