//! One error type for the whole service, rendered as `application/problem+json`
//! (RFC 9457): a stable `type`, a `title`, a Vietnamese `detail` (English when the
//! client sends `Accept-Language: en`) and, for validation, every failing field.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use utoipa::ToSchema;

/// Language of the human-readable parts of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese (the default).
    #[default]
    Vi,
    /// English.
    En,
}

tokio::task_local! {
    static LANG: Lang;
}

impl Lang {
    /// Reads an `Accept-Language` header: English when it prefers `en`, otherwise Vietnamese.
    pub fn from_header(value: Option<&str>) -> Lang {
        let first = value
            .and_then(|v| v.split(',').next())
            .map(|t| t.trim().to_ascii_lowercase());
        match first {
            Some(t) if t.starts_with("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    /// The language of the request being served.
    pub fn current() -> Lang {
        LANG.try_with(|l| *l).unwrap_or_default()
    }

    /// Runs `f` with `self` as the request's language.
    pub async fn scope<F: std::future::Future>(self, f: F) -> F::Output {
        LANG.scope(self, f).await
    }

    /// Picks the Vietnamese or the English text.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// One failing field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// Field path, e.g. `code` or `fields.license_plate`.
    pub field: String,
    /// Stable code, e.g. `required`, `pattern`, `remaining_value`.
    pub code: String,
    /// What to fix, in the request's language.
    pub message: String,
}

impl FieldError {
    /// A field error with a bilingual message, rendered in the current language.
    pub fn new(field: impl Into<String>, code: impl Into<String>, vi: &str, en: &str) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: Lang::current().pick(vi, en).to_string(),
        }
    }
}

/// The problem document every error leaves as.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemDoc {
    /// Stable problem type, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and what to do, Vietnamese first.
    pub detail: String,
    /// Every failing field (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A problem the client can act on.
    #[error("{status} {slug}: {detail_en}")]
    Problem {
        /// HTTP status.
        status: StatusCode,
        /// Stable slug, the tail of the problem `type`.
        slug: &'static str,
        /// Vietnamese detail.
        detail_vi: String,
        /// English detail.
        detail_en: String,
        /// Failing fields.
        errors: Vec<FieldError>,
    },
    /// A database error; mapped to 409, 503 or 500 in one place.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// A bug or an unexpected failure: logged in full, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for handler and domain results.
pub type AppResult<T> = Result<T, AppError>;

fn title(slug: &str, lang: Lang) -> &'static str {
    let (vi, en) = match slug {
        "validation" => ("Dữ liệu không hợp lệ", "Invalid data"),
        "bad-request" => ("Yêu cầu không hợp lệ", "Bad request"),
        "malformed-json" => ("JSON không đọc được", "Malformed JSON"),
        "unsupported-media-type" => ("Sai kiểu nội dung", "Unsupported media type"),
        "not-found" => ("Không tìm thấy", "Not found"),
        "method-not-allowed" => ("Phương thức không được hỗ trợ", "Method not allowed"),
        "conflict" => ("Xung đột dữ liệu", "Conflict"),
        "stale-version" => ("Dữ liệu đã bị người khác thay đổi", "Stale version"),
        "invalid-state" => ("Trạng thái không cho phép thao tác này", "Invalid state"),
        "precondition-required" => ("Thiếu phiên bản dữ liệu", "Precondition required"),
        "import-file" => ("Tệp không nhập được", "The file cannot be imported"),
        "locked" => ("Báo cáo đã khóa", "Report locked"),
        "unit-inactive" => ("Đơn vị đã ngừng hoạt động", "Unit inactive"),
        "unauthorized" => ("Chưa đăng nhập", "Unauthorized"),
        "forbidden" => ("Không có quyền", "Forbidden"),
        "too-many-requests" => ("Quá nhiều yêu cầu", "Too many requests"),
        "payload-too-large" => ("Dữ liệu gửi lên quá lớn", "Payload too large"),
        "unavailable" => ("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
        "timeout" => ("Hết thời gian xử lý", "Request timeout"),
        _ => ("Lỗi hệ thống", "Internal error"),
    };
    lang.pick(vi, en)
}

impl AppError {
    /// A problem with a bilingual detail.
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        vi: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        AppError::Problem {
            status,
            slug,
            detail_vi: vi.into(),
            detail_en: en.into(),
            errors: vec![],
        }
    }

    /// 422 listing every failing field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        AppError::Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            slug: "validation",
            detail_vi: format!("Có {n} trường dữ liệu không hợp lệ; xem danh sách «errors»."),
            detail_en: format!("{n} field(s) are invalid; see \"errors\"."),
            errors,
        }
    }

    /// 422 for a single field.
    pub fn field(field: &str, code: &str, vi: &str, en: &str) -> Self {
        Self::validation(vec![FieldError::new(field, code, vi, en)])
    }

    /// 404 naming what was not found.
    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("Không tìm thấy {what_vi}."),
            format!("{what_en} not found."),
        )
    }

    /// 409 with a reason.
    pub fn conflict(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", vi, en)
    }

    /// 400 with a reason.
    pub fn bad_request(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", vi, en)
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Tài khoản của bạn không có quyền thực hiện thao tác này.",
            "Your account is not allowed to do this.",
        )
    }

    /// 401: no valid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Cần đăng nhập: gửi mã truy cập trong tiêu đề «Authorization: Bearer …».",
            "Authentication required: send the access token as \"Authorization: Bearer …\".",
        )
    }

    /// HTTP status this error leaves with.
    pub fn status(&self) -> StatusCode {
        self.to_problem(Lang::Vi).0
    }

    /// The status and problem document of this error in `lang` (the web pages show it as a page).
    pub fn to_problem(&self, lang: Lang) -> (StatusCode, ProblemDoc) {
        let (status, slug, vi, en, errors) = match self {
            AppError::Problem {
                status,
                slug,
                detail_vi,
                detail_en,
                errors,
            } => (
                *status,
                *slug,
                detail_vi.clone(),
                detail_en.clone(),
                errors.clone(),
            ),
            AppError::Db(e) => db_problem(e),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Đã xảy ra lỗi hệ thống; lỗi đã được ghi lại. Vui lòng thử lại sau.".into(),
                "An internal error occurred and was logged. Please try again later.".into(),
                vec![],
            ),
        };
        let doc = ProblemDoc {
            kind: format!("/problems/{slug}"),
            title: title(slug, lang).to_string(),
            status: status.as_u16(),
            detail: lang.pick(&vi, &en).to_string(),
            errors,
        };
        (status, doc)
    }
}

type Parts = (StatusCode, &'static str, String, String, Vec<FieldError>);

fn db_problem(e: &DbErr) -> Parts {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => (
            StatusCode::CONFLICT,
            "conflict",
            "Dữ liệu trùng với một bản ghi đã có.".into(),
            "The data duplicates an existing record.".into(),
            vec![],
        ),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => (
            StatusCode::CONFLICT,
            "conflict",
            "Dữ liệu đang được tham chiếu hoặc tham chiếu tới bản ghi không tồn tại.".into(),
            "The data is referenced by, or refers to a missing, record.".into(),
            vec![],
        ),
        _ if is_data_exception(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Một giá trị quá dài, quá lớn hoặc chứa ký tự không lưu được (ví dụ ký tự NUL).".into(),
            "A value is too long, too large, or holds a character that cannot be stored (e.g. NUL).".into(),
            vec![],
        ),
        _ if is_unavailable(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Không kết nối được cơ sở dữ liệu; vui lòng thử lại sau ít phút.".into(),
            "The database is unreachable; please retry in a few minutes.".into(),
            vec![],
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Đã xảy ra lỗi hệ thống; lỗi đã được ghi lại. Vui lòng thử lại sau.".into(),
            "An internal error occurred and was logged. Please try again later.".into(),
            vec![],
        ),
    }
}

/// Whether PostgreSQL refused a value itself (SQLSTATE class 22, "data exception": a string
/// longer than its column, a NUL character, a number out of range) — input that got past
/// validation, so 422 rather than 500. SQLite stores such values as they are.
fn is_data_exception(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            matches!(&**s, Sqlx::Database(d)
                if d.code().is_some_and(|c| c.len() == 5 && c.starts_with("22")))
        }
        _ => false,
    }
}

/// Whether a database error means "the database is not reachable right now" (503, retry
/// later), as opposed to a bug (500).
///
/// That covers: no connection could be had in time (the server is down, refusing
/// connections, or every connection is busy); the connection broke (I/O error, the server
/// closed it mid-message); and the server's own "go away" answers — SQLSTATE class 08
/// (connection exception), 57P01 "terminating connection due to administrator command"
/// (a fast or immediate shutdown, `pg_terminate_backend`), 57P02 (crash of another server
/// process), 57P03 "the database system is starting up / shutting down", 53300 (too many
/// connections) — and SQLite's "database is locked" (codes 5 and 6: another process holds
/// the file, e.g. a backup).
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => &**s,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(d) => d.code().is_some_and(|code| {
            if code.len() == 5 {
                // PostgreSQL: a SQLSTATE.
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
            } else {
                // SQLite: an extended result code whose low byte is BUSY (5) or LOCKED (6).
                code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
            }
        }),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, doc) = self.to_problem(Lang::current());
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        problem_response(status, &doc)
    }
}

/// Serialises a problem document with the right content type.
pub fn problem_response(status: StatusCode, doc: &ProblemDoc) -> Response {
    let body = serde_json::to_vec(doc).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kiemke\""),
        );
    }
    res
}

/// Maps a unique-constraint violation to the caller's own error (a duplicate code, a taken user
/// name); every other database error keeps its usual mapping.
pub trait OnUnique<T> {
    /// `self`, with a unique violation replaced by `error()`.
    fn on_unique(self, error: impl FnOnce() -> AppError) -> AppResult<T>;
}

impl<T> OnUnique<T> for Result<T, DbErr> {
    fn on_unique(self, error: impl FnOnce() -> AppError) -> AppResult<T> {
        self.map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => error(),
            _ => AppError::Db(e),
        })
    }
}
