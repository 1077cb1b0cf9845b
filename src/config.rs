//! Settings of the running service: every setting has a flag, an `env` name and a default
//! (the commands that take them are in [`crate::cli`]).

use clap::Args;

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
    /// A PostgreSQL hot standby of `DATABASE_URL`: the board, summary, reminders and exports
    /// read from it (a user's reads after their own write still see it); none by default.
    #[arg(long, env = "KIEMKE_READ_DATABASE_URL", hide_env_values = true)]
    pub read_database_url: Option<String>,
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
            read_database_url: None,
        }
    }
}
