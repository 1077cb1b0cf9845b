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
    #[error("{} {}: {detail_en}", .kind.status(), .kind.slug())]
    Problem {
        /// The kind: status, `type` and title.
        kind: Problem,
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

/// Every kind of problem, each with its HTTP status, the slug of its `type`
/// (`/problems/<slug>`) and its title in Vietnamese and English, stated once here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// 422: fields that fail their rules, every one listed.
    Validation,
    /// 400: a request that cannot be read as meant.
    BadRequest,
    /// 400: a body that is not JSON.
    MalformedJson,
    /// 415: a body of the wrong content type.
    UnsupportedMediaType,
    /// 404.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 409: the data clashes with data already stored.
    Conflict,
    /// 409: someone else changed the record since it was read.
    StaleVersion,
    /// 409: the record's state does not allow the operation.
    InvalidState,
    /// 428: an update without the version it edits.
    PreconditionRequired,
    /// 422: an uploaded file that cannot be imported.
    ImportFile,
    /// 409: the report is locked against changes.
    Locked,
    /// 409: the unit no longer operates.
    UnitInactive,
    /// 401: no valid credentials.
    Unauthorized,
    /// 403: the caller may not do this.
    Forbidden,
    /// 429: try again later.
    TooManyRequests,
    /// 413.
    PayloadTooLarge,
    /// 503: the service (or the database) cannot serve now.
    Unavailable,
    /// 503: the request took too long.
    Timeout,
    /// 500: a bug or an unexpected failure.
    Internal,
}

impl Problem {
    /// Status, slug, Vietnamese title, English title.
    fn spec(self) -> (StatusCode, &'static str, &'static str, &'static str) {
        match self {
            Problem::Validation => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Dữ liệu không hợp lệ",
                "Invalid data",
            ),
            Problem::BadRequest => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Yêu cầu không hợp lệ",
                "Bad request",
            ),
            Problem::MalformedJson => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "JSON không đọc được",
                "Malformed JSON",
            ),
            Problem::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Sai kiểu nội dung",
                "Unsupported media type",
            ),
            Problem::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Không tìm thấy",
                "Not found",
            ),
            Problem::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Phương thức không được hỗ trợ",
                "Method not allowed",
            ),
            Problem::Conflict => (
                StatusCode::CONFLICT,
                "conflict",
                "Xung đột dữ liệu",
                "Conflict",
            ),
            Problem::StaleVersion => (
                StatusCode::CONFLICT,
                "stale-version",
                "Dữ liệu đã bị người khác thay đổi",
                "Stale version",
            ),
            Problem::InvalidState => (
                StatusCode::CONFLICT,
                "invalid-state",
                "Trạng thái không cho phép thao tác này",
                "Invalid state",
            ),
            Problem::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "Thiếu phiên bản dữ liệu",
                "Precondition required",
            ),
            Problem::ImportFile => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "import-file",
                "Tệp không nhập được",
                "The file cannot be imported",
            ),
            Problem::Locked => (
                StatusCode::CONFLICT,
                "locked",
                "Báo cáo đã khóa",
                "Report locked",
            ),
            Problem::UnitInactive => (
                StatusCode::CONFLICT,
                "unit-inactive",
                "Đơn vị đã ngừng hoạt động",
                "Unit inactive",
            ),
            Problem::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Chưa đăng nhập",
                "Unauthorized",
            ),
            Problem::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Không có quyền",
                "Forbidden",
            ),
            Problem::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Quá nhiều yêu cầu",
                "Too many requests",
            ),
            Problem::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Dữ liệu gửi lên quá lớn",
                "Payload too large",
            ),
            Problem::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Dịch vụ tạm thời không sẵn sàng",
                "Service unavailable",
            ),
            Problem::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Hết thời gian xử lý",
                "Request timeout",
            ),
            Problem::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Lỗi hệ thống",
                "Internal error",
            ),
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        self.spec().0
    }

    /// The stable slug, the tail of the problem `type`.
    pub fn slug(self) -> &'static str {
        self.spec().1
    }

    /// The short title in `lang`.
    pub fn title(self, lang: Lang) -> &'static str {
        let (_, _, vi, en) = self.spec();
        lang.pick(vi, en)
    }
}

impl AppError {
    /// A problem with a bilingual detail.
    pub fn new(kind: Problem, vi: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::Problem {
            kind,
            detail_vi: vi.into(),
            detail_en: en.into(),
            errors: vec![],
        }
    }

    /// 422 listing every failing field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        AppError::Problem {
            kind: Problem::Validation,
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
            Problem::NotFound,
            format!("Không tìm thấy {what_vi}."),
            format!("{what_en} not found."),
        )
    }

    /// 409 with a reason.
    pub fn conflict(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Problem::Conflict, vi, en)
    }

    /// 400 with a reason.
    pub fn bad_request(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Problem::BadRequest, vi, en)
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            Problem::Forbidden,
            "Tài khoản của bạn không có quyền thực hiện thao tác này.",
            "Your account is not allowed to do this.",
        )
    }

    /// 401: no valid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            Problem::Unauthorized,
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
        let (kind, vi, en, errors) = match self {
            AppError::Problem {
                kind,
                detail_vi,
                detail_en,
                errors,
            } => (*kind, detail_vi.clone(), detail_en.clone(), errors.clone()),
            AppError::Db(e) => db_problem(e),
            AppError::Internal(_) => (
                Problem::Internal,
                "Đã xảy ra lỗi hệ thống; lỗi đã được ghi lại. Vui lòng thử lại sau.".into(),
                "An internal error occurred and was logged. Please try again later.".into(),
                vec![],
            ),
        };
        let status = kind.status();
        let doc = ProblemDoc {
            kind: format!("/problems/{}", kind.slug()),
            title: kind.title(lang).to_string(),
            status: status.as_u16(),
            detail: lang.pick(&vi, &en).to_string(),
            errors,
        };
        (status, doc)
    }
}

type Parts = (Problem, String, String, Vec<FieldError>);

fn db_problem(e: &DbErr) -> Parts {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => (
            Problem::Conflict,
            "Dữ liệu trùng với một bản ghi đã có.".into(),
            "The data duplicates an existing record.".into(),
            vec![],
        ),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => (
            Problem::Conflict,
            "Dữ liệu đang được tham chiếu hoặc tham chiếu tới bản ghi không tồn tại.".into(),
            "The data is referenced by, or refers to a missing, record.".into(),
            vec![],
        ),
        _ if is_data_exception(e) => (
            Problem::Validation,
            "Một giá trị quá dài, quá lớn hoặc chứa ký tự không lưu được (ví dụ ký tự NUL).".into(),
            "A value is too long, too large, or holds a character that cannot be stored (e.g. NUL).".into(),
            vec![],
        ),
        _ if is_unavailable(e) => (
            Problem::Unavailable,
            "Không kết nối được cơ sở dữ liệu; vui lòng thử lại sau ít phút.".into(),
            "The database is unreachable; please retry in a few minutes.".into(),
            vec![],
        ),
        _ => (
            Problem::Internal,
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

/// Turns validator's nested errors into a flat list with dotted paths.
pub fn flatten(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    walk(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn walk(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            validator::ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(describe(&path, e));
                }
            }
            validator::ValidationErrorsKind::Struct(inner) => walk(inner, &path, out),
            validator::ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    walk(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn describe(path: &str, e: &validator::ValidationError) -> FieldError {
    let p = |k: &str| {
        e.params
            .get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
    };
    let (vi, en) = match e.code.as_ref() {
        "length" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => (
                format!("«{path}» phải dài từ {min} đến {max} ký tự"),
                format!("\"{path}\" must be {min} to {max} characters long"),
            ),
            (Some(min), None) => (
                format!("«{path}» phải dài ít nhất {min} ký tự"),
                format!("\"{path}\" must be at least {min} characters long"),
            ),
            (None, Some(max)) => (
                format!("«{path}» dài tối đa {max} ký tự"),
                format!("\"{path}\" must be at most {max} characters long"),
            ),
            _ => (
                format!("«{path}» sai độ dài"),
                format!("\"{path}\" has a wrong length"),
            ),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => (
                format!("«{path}» phải từ {min} đến {max}"),
                format!("\"{path}\" must be between {min} and {max}"),
            ),
            (Some(min), None) => (
                format!("«{path}» phải từ {min} trở lên"),
                format!("\"{path}\" must be at least {min}"),
            ),
            (None, Some(max)) => (
                format!("«{path}» không được vượt quá {max}"),
                format!("\"{path}\" must be at most {max}"),
            ),
            _ => (
                format!("«{path}» nằm ngoài khoảng cho phép"),
                format!("\"{path}\" is out of range"),
            ),
        },
        "email" => (
            format!("«{path}» không phải địa chỉ thư điện tử hợp lệ"),
            format!("\"{path}\" is not a valid e-mail address"),
        ),
        "regex" => (
            format!("«{path}» không đúng định dạng"),
            format!("\"{path}\" is not in the expected format"),
        ),
        "required" => (format!("Thiếu «{path}»"), format!("\"{path}\" is required")),
        _ => match &e.message {
            Some(m) => {
                let (vi, en) = m.split_once(" | ").unwrap_or((m, m));
                (vi.to_string(), en.to_string())
            }
            None => (
                format!("«{path}» không hợp lệ"),
                format!("\"{path}\" is invalid"),
            ),
        },
    };
    FieldError::new(path, e.code.to_string(), &vi, &en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_kind_gives_its_status_type_and_title_in_the_document() {
        let e = AppError::new(
            Problem::Locked,
            "Báo cáo đã nộp.",
            "The report is submitted.",
        );
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(
            e.to_string(),
            "409 Conflict locked: The report is submitted."
        );
        let (status, doc) = e.to_problem(Lang::Vi);
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            serde_json::to_string(&doc).expect("json"),
            r#"{"type":"/problems/locked","title":"Báo cáo đã khóa","status":409,"detail":"Báo cáo đã nộp."}"#
        );
        let (_, doc) = e.to_problem(Lang::En);
        assert_eq!(
            serde_json::to_string(&doc).expect("json"),
            r#"{"type":"/problems/locked","title":"Report locked","status":409,"detail":"The report is submitted."}"#
        );
    }

    #[test]
    fn an_internal_error_leaves_as_a_500_problem_without_its_details() {
        let (status, doc) = AppError::Internal("secret path".into()).to_problem(Lang::En);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            (doc.kind.as_str(), doc.title.as_str(), doc.status),
            ("/problems/internal", "Internal error", 500)
        );
        assert!(!doc.detail.contains("secret"));
    }
}
