//! The web pages: server-rendered HTML (askama templates) for the people who use the
//! service, on the same port and the same domain functions as the API.
//!
//! - **Sessions** are the API's sessions: the login form calls [`sessions::login`] and
//!   keeps the token in an HttpOnly cookie; every page resolves it with
//!   [`sessions::resolve`], so throttling, expiry, logout and revocation are the same.
//! - **CSRF**: every POST must carry the session's form token (a hidden `csrf` field, or
//!   the `X-CSRF-Token` header htmx sends) and must not come from another origin.
//! - **Authorization**, in one place: [`PAGES`] states the roles of every page and
//!   [`page_policy`] applies it to every routed request, together with the API policy's unit
//!   scope check on the path (`{unit_id}`, or the unit of `{asset_id}`): another unit's page
//!   is the same 404 page as a missing one. A route missing from [`PAGES`] is refused.
//! - **Language**: Vietnamese, or English by the `lang` cookie or `Accept-Language`;
//!   every text comes from [`text`].

pub mod admin;
pub mod charts;
pub mod import;
pub mod office;
pub mod office_text;
pub mod pages;
pub mod text;

use std::sync::LazyLock;

use askama::Template;
use axum::{
    Router,
    body::Body,
    extract::{FromRequestParts, Path, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use sha2::{Digest, Sha256};

use crate::{
    access,
    auth::{Actor, Role},
    error::{AppError, Lang},
    sessions,
    state::AppState,
};
pub use text::Texts;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kiemke_session";
/// Name of the language cookie.
pub const LANG_COOKIE: &str = "kiemke_lang";

/// A file embedded in the binary and served under a content-hashed name.
pub struct Asset {
    /// File name as embedded.
    pub name: &'static str,
    /// Content type.
    pub content_type: &'static str,
    /// Bytes.
    pub bytes: &'static [u8],
    /// `/static/<stem>.<hash>.<ext>`.
    pub url: String,
}

fn asset(name: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    let hash = hex::encode(&Sha256::digest(bytes)[..6]);
    let url = match name.rsplit_once('.') {
        Some((stem, ext)) => format!("/static/{stem}.{hash}.{ext}"),
        None => format!("/static/{name}.{hash}"),
    };
    Asset {
        name,
        content_type,
        bytes,
        url,
    }
}

/// The static files: Pico CSS, the site's own rules, htmx.
pub static ASSETS: LazyLock<[Asset; 4]> = LazyLock::new(|| {
    [
        asset(
            "pico.min.css",
            "text/css; charset=utf-8",
            include_bytes!("static/pico.min.css"),
        ),
        asset(
            "site.css",
            "text/css; charset=utf-8",
            include_bytes!("static/site.css"),
        ),
        asset(
            "htmx.min.js",
            "text/javascript; charset=utf-8",
            include_bytes!("static/htmx.min.js"),
        ),
        asset(
            "copy.js",
            "text/javascript; charset=utf-8",
            include_bytes!("static/copy.js"),
        ),
    ]
});

/// URLs of the static files, for the layout.
pub struct StaticUrls {
    pub pico: &'static str,
    pub site: &'static str,
    pub htmx: &'static str,
    pub copy: &'static str,
}

/// The content-hashed URLs of the static files.
pub fn static_urls() -> StaticUrls {
    let a = &*ASSETS;
    StaticUrls {
        pico: &a[0].url,
        site: &a[1].url,
        htmx: &a[2].url,
        copy: &a[3].url,
    }
}

async fn static_file(Path(file): Path<String>) -> Response {
    let wanted = format!("/static/{file}");
    match ASSETS.iter().find(|a| a.url == wanted) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.bytes,
        )
            .into_response(),
        None => page_error(StatusCode::NOT_FOUND, None),
    }
}

/// The Content-Security-Policy of every page: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The language of a web request: the `lang` cookie, else `Accept-Language`.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => Lang::from_header(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

/// The form token of a session: derived from its secret token, so it needs no storage,
/// differs per session and cannot be computed from anything the database holds.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"kiemke-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Whether `Origin` (or, without it, `Sec-Fetch-Site`) says the request came from this site.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // A browser hides the origin ("null") under a strict referrer policy; its own
        // `Sec-Fetch-Site` still tells a same-origin form post apart.
        Some("null") => fetch_site == Some("same-origin"),
        Some(origin) => {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
        }
        None => !matches!(fetch_site, Some("cross-site" | "same-site")),
    }
}

/// Largest form body the token check reads (uploads go elsewhere and carry the header).
const FORM_LIMIT: usize = 256 * 1024;

/// CSRF guard for every POST of the web pages.
async fn csrf_guard(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    if !same_origin(req.headers()) {
        return page_error(
            StatusCode::FORBIDDEN,
            Some(text::of(Lang::current()).error_csrf),
        );
    }
    // The login form has no session yet: the origin check is its protection.
    if req.uri().path() == "/login" {
        return next.run(req).await;
    }
    let Some(expected) = cookie(req.headers(), SESSION_COOKIE).map(csrf_token) else {
        return Redirect::to("/login").into_response();
    };
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let query_token = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
    });
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = req.into_parts();
    let (body_token, body) = if is_form && header_token.is_none() {
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return page_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        };
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        (token, Body::from(bytes))
    } else {
        (None, body)
    };
    let given = header_token.or(body_token).or(query_token);
    if given.as_deref() != Some(expected.as_str()) {
        return page_error(
            StatusCode::FORBIDDEN,
            Some(text::of(Lang::current()).error_csrf),
        );
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Sets the request's language from the cookie, and the page headers on the answer.
async fn page_layer(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let mut res = lang.scope(next.run(req)).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Accept-Language"),
    );
    // Not the API's `no-referrer`: under it browsers post `Origin: null`, and the CSRF check
    // wants the real origin.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// The person behind a web request, with the session's form token.
#[derive(Debug, Clone)]
pub struct WebUser {
    /// The same actor the API would see.
    pub actor: Actor,
    /// Form token of the session.
    pub csrf: String,
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum WebError {
    /// No valid session: go to the login page.
    Login,
    /// A domain or access error, shown as an error page.
    App(AppError),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebError::App(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Login => Redirect::to("/login").into_response(),
            WebError::App(e) => {
                let lang = Lang::current();
                let (status, doc) = e.to_problem(lang);
                if status.is_server_error() {
                    tracing::error!(error = %e, "page failed");
                }
                let t = text::of(lang);
                let detail = match status {
                    StatusCode::NOT_FOUND => t.error_404.to_string(),
                    StatusCode::FORBIDDEN => t.error_403.to_string(),
                    s if s.is_server_error() && s != StatusCode::SERVICE_UNAVAILABLE => {
                        t.error_500.to_string()
                    }
                    _ => doc.detail,
                };
                render_error(status, &doc.title, &detail)
            }
        }
    }
}

/// Result of a page handler.
pub type WebResult<T = Response> = Result<T, WebError>;

impl<S: Send + Sync> FromRequestParts<S> for WebUser {
    type Rejection = WebError;

    /// The user [`page_policy`] resolved for this request.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        parts
            .extensions
            .get::<WebUser>()
            .cloned()
            .ok_or(WebError::Login)
    }
}

impl WebUser {
    /// The user of a session cookie, resolved as the API resolves a bearer token.
    async fn resolve(headers: &HeaderMap, state: &AppState) -> WebResult<WebUser> {
        let token = cookie(headers, SESSION_COOKIE)
            .filter(|t| t.starts_with("kk_") && t.len() <= 80)
            .ok_or(WebError::Login)?;
        let actor = sessions::resolve(&state.db, token, state.clock.now())
            .await?
            .ok_or(WebError::Login)?;
        Ok(WebUser {
            csrf: csrf_token(token),
            actor,
        })
    }

    /// Whether the user's role may change a unit's assets and reports ([`ENTRY`]).
    pub fn may_enter(&self) -> bool {
        ENTRY.contains(&self.actor.role)
    }

    /// Fails with the 404 page when the user may not see `unit_id` (same answer as a missing unit).
    /// A unit or asset named in the path is checked by [`page_policy`] already; this is for a
    /// unit a page learns otherwise (a form field, a query).
    pub async fn unit(&self, state: &AppState, unit_id: i64) -> WebResult<i64> {
        if crate::tree::covers_unit(&state.db, &self.actor.scope, unit_id).await? {
            Ok(unit_id)
        } else {
            Err(AppError::not_found("dữ liệu của đơn vị này", "This unit's data").into())
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'static Texts,
    s: StaticUrls,
    status: u16,
    title: &'a str,
    detail: &'a str,
}

/// Renders an error page.
pub fn render_error(status: StatusCode, title: &str, detail: &str) -> Response {
    render_error_in(Lang::current(), status, title, detail)
}

fn render_error_in(lang: Lang, status: StatusCode, title: &str, detail: &str) -> Response {
    let page = ErrorPage {
        t: text::of(lang),
        s: static_urls(),
        status: status.as_u16(),
        title,
        detail,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, detail.to_string()).into_response(),
    }
}

/// The error page of a status, with the catalogue's text (or `detail`).
pub fn page_error(status: StatusCode, detail: Option<&str>) -> Response {
    let t = text::of(Lang::current());
    let d = detail.unwrap_or(match status {
        StatusCode::NOT_FOUND => t.error_404,
        StatusCode::FORBIDDEN => t.error_403,
        _ => t.error_500,
    });
    render_error(status, t.error_title, d)
}

/// Renders a template into a 200 page.
pub fn html<T: Template>(page: &T) -> WebResult {
    match page.render() {
        Ok(s) => Ok(Html(s).into_response()),
        Err(e) => Err(AppError::Internal(format!("template: {e}")).into()),
    }
}

/// Whether a request wants a page rather than JSON (a browser navigating).
pub fn wants_html(headers: &HeaderMap, path: &str) -> bool {
    !path.starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// The error page of `status` outside the page routes (unknown path, wrong method), in the
/// request's language and with the pages' headers.
pub fn page_for(headers: &HeaderMap, status: StatusCode) -> Response {
    let lang = lang_of(headers);
    let t = text::of(lang);
    let detail = match status {
        StatusCode::NOT_FOUND => t.error_404,
        _ => t.error_method,
    };
    let mut res = render_error_in(lang, status, t.error_title, detail);
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// The 404 answer of an unknown path: a page for browsers, a problem document otherwise.
pub async fn fallback(req: Request) -> Response {
    if wants_html(req.headers(), req.uri().path()) {
        return page_for(req.headers(), StatusCode::NOT_FOUND);
    }
    AppError::new(
        crate::error::Problem::NotFound,
        "Không có địa chỉ này; xem tài liệu API tại /docs.",
        "No such route; see the API documentation at /docs.",
    )
    .into_response()
}

/// Every role that can sign in.
pub const SIGNED_IN: &[Role] = &[
    Role::Admin,
    Role::FinanceOfficer,
    Role::UnitAccountant,
    Role::Viewer,
];
/// Roles that read a unit's pages (all of them; accountants only their own units).
pub const READ: &[Role] = SIGNED_IN;
/// Roles that change a unit's assets and reports, as the API's operations declare.
pub const ENTRY: &[Role] = &[Role::Admin, Role::UnitAccountant];
/// Roles that read the board and every unit's reports (the chairman reads only).
pub const OFFICE: &[Role] = &[Role::Admin, Role::FinanceOfficer, Role::Viewer];
/// Roles that return and accept reports and grant extensions, as the API's operations declare.
pub const REVIEW: &[Role] = &[Role::Admin, Role::FinanceOfficer];

/// Who may use each page: method, route and roles (`None`: public). [`page_policy`] applies
/// it to every request, and a route missing here is refused (deny by default). Unit scope is
/// checked there too, from the path's `{unit_id}` or `{asset_id}`: another unit's page is a
/// 404 page. tests/api/permissions.rs walks every entry as every role.
pub const PAGES: &[(&str, &str, Option<&[Role]>)] = &[
    ("GET", "/static/{file}", None),
    ("GET", "/login", None),
    ("POST", "/login", None),
    ("GET", "/lang/{code}", None),
    ("POST", "/logout", Some(SIGNED_IN)),
    ("GET", "/", Some(SIGNED_IN)),
    ("GET", "/password", Some(SIGNED_IN)),
    ("POST", "/password", Some(SIGNED_IN)),
    ("GET", "/units/{unit_id}/registration", Some(READ)),
    ("GET", "/units/{unit_id}/types/{type_code}", Some(READ)),
    ("GET", "/units/{unit_id}/types/{type_code}/new", Some(ENTRY)),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/new",
        Some(ENTRY),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/derive",
        Some(ENTRY),
    ),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/submit",
        Some(READ),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/submit",
        Some(ENTRY),
    ),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/import",
        Some(ENTRY),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/import",
        Some(ENTRY),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/import/confirm",
        Some(ENTRY),
    ),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/import/{upload}/errors.xlsx",
        Some(ENTRY),
    ),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/export/{layout}",
        Some(READ),
    ),
    ("GET", "/assets/{asset_id}", Some(READ)),
    ("POST", "/assets/{asset_id}", Some(ENTRY)),
    ("GET", "/assets/{asset_id}/delete", Some(ENTRY)),
    ("POST", "/assets/{asset_id}/delete", Some(ENTRY)),
    ("GET", "/assets/{asset_id}/history", Some(READ)),
    // The admin's pages (src/web/admin).
    ("GET", "/admin", Some(ADMIN)),
    ("GET", "/admin/users", Some(ADMIN)),
    ("GET", "/admin/users/new", Some(ADMIN)),
    ("POST", "/admin/users/new", Some(ADMIN)),
    ("GET", "/admin/users/{user_id}", Some(ADMIN)),
    ("POST", "/admin/users/{user_id}", Some(ADMIN)),
    ("POST", "/admin/users/{user_id}/password", Some(ADMIN)),
    ("GET", "/admin/units", Some(ADMIN)),
    ("GET", "/admin/units/new", Some(ADMIN)),
    ("POST", "/admin/units/new", Some(ADMIN)),
    ("GET", "/admin/units/{unit_id}", Some(ADMIN)),
    ("POST", "/admin/units/{unit_id}", Some(ADMIN)),
    ("GET", "/admin/tree", Some(ADMIN)),
    ("GET", "/admin/tree/new", Some(ADMIN)),
    ("POST", "/admin/tree/new", Some(ADMIN)),
    ("GET", "/admin/tree/{node_id}", Some(ADMIN)),
    ("POST", "/admin/tree/{node_id}", Some(ADMIN)),
    ("GET", "/admin/units/{unit_id}/registration", Some(ADMIN)),
    ("POST", "/admin/units/{unit_id}/registration", Some(ADMIN)),
    ("GET", "/admin/campaigns", Some(ADMIN)),
    ("GET", "/admin/campaigns/new", Some(ADMIN)),
    ("POST", "/admin/campaigns/new", Some(ADMIN)),
    ("GET", "/admin/campaigns/{campaign_id}", Some(ADMIN)),
    ("POST", "/admin/campaigns/{campaign_id}", Some(ADMIN)),
    ("GET", "/admin/audit", Some(ADMIN)),
    // The finance office's and the chairman's pages.
    ("GET", "/board", Some(OFFICE)),
    ("GET", "/units/{unit_id}", Some(OFFICE)),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/return",
        Some(REVIEW),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/return",
        Some(REVIEW),
    ),
    (
        "GET",
        "/units/{unit_id}/types/{type_code}/accept",
        Some(REVIEW),
    ),
    (
        "POST",
        "/units/{unit_id}/types/{type_code}/accept",
        Some(REVIEW),
    ),
    ("GET", "/units/{unit_id}/extension", Some(REVIEW)),
    ("POST", "/units/{unit_id}/extension", Some(REVIEW)),
    ("GET", "/summary", Some(OFFICE)),
    ("GET", "/reminders", Some(REVIEW)),
    ("GET", "/downloads", Some(OFFICE)),
    ("GET", "/downloads/progress.xlsx", Some(OFFICE)),
    ("GET", "/downloads/consolidated/{form_code}", Some(OFFICE)),
    ("GET", "/downloads/forms/{form_code}", Some(OFFICE)),
];

/// The admin's pages: accounts, units, campaigns, registrations on a unit's behalf, audit log.
pub const ADMIN: &[Role] = &[Role::Admin];

/// The rule of one page: `Some(None)` public, `Some(Some(roles))`, `None` when undeclared.
pub fn page_access(method: &Method, route: &str) -> Option<Option<&'static [Role]>> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    PAGES
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, roles)| *roles)
}

/// Applies [`PAGES`] to a routed request, in the API policy's order: anonymous → the login
/// page; a `{unit_id}` (or the unit of an `{asset_id}`) the user may not see → the 404 page, by
/// the check the API's guard runs too ([`access::check_scope`]); a role not listed → the 403
/// page. The signed-in user is handed on to the handler, which therefore never sees another
/// unit's path.
async fn page_policy(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let roles = match page_access(req.method(), &route) {
        Some(None) => return next.run(req).await,
        Some(Some(roles)) => roles,
        None => return page_error(StatusCode::FORBIDDEN, None),
    };
    let (mut parts, body) = req.into_parts();
    let user = match WebUser::resolve(&parts.headers, &state).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = access::check_scope(&state, &user.actor, &mut parts).await {
        return WebError::App(e).into_response();
    }
    if !roles.contains(&user.actor.role) {
        return page_error(StatusCode::FORBIDDEN, None);
    }
    // The caller, also as the API's guard leaves it (for `replica::note_writes`).
    parts.extensions.insert(user.actor.clone());
    parts.extensions.insert(user);
    next.run(Request::from_parts(parts, body)).await
}

/// The web pages' routes with their layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/static/{file}", get(static_file))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::set_lang))
        .route(
            "/password",
            get(pages::password_page).post(pages::change_password),
        )
        .route("/units/{unit_id}/registration", get(pages::registration))
        .route("/units/{unit_id}/types/{type_code}", get(pages::asset_list))
        .route(
            "/units/{unit_id}/types/{type_code}/new",
            get(pages::new_asset).post(pages::create_asset),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/derive",
            post(pages::derive),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/submit",
            get(pages::submit_page).post(pages::submit),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/import",
            get(import::import_page).post(import::check),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/import/confirm",
            post(import::confirm),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/import/{upload}/errors.xlsx",
            get(import::annotated),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/export/{layout}",
            get(pages::export),
        )
        .route(
            "/assets/{asset_id}",
            get(pages::edit_asset).post(pages::update_asset),
        )
        .route(
            "/assets/{asset_id}/delete",
            get(pages::delete_page).post(pages::delete_asset),
        )
        .route("/assets/{asset_id}/history", get(pages::history))
        .merge(admin::routes())
        .route("/board", get(office::board))
        .route("/units/{unit_id}", get(office::unit_page))
        .route(
            "/units/{unit_id}/types/{type_code}/return",
            get(office::return_page).post(office::return_report),
        )
        .route(
            "/units/{unit_id}/types/{type_code}/accept",
            get(office::accept_page).post(office::accept),
        )
        .route(
            "/units/{unit_id}/extension",
            get(office::extension_page).post(office::extend),
        )
        .route("/summary", get(office::summary))
        .route("/reminders", get(office::reminders))
        .route("/downloads", get(office::downloads))
        .route("/downloads/progress.xlsx", get(office::progress_xlsx))
        .route(
            "/downloads/consolidated/{form_code}",
            get(office::consolidated),
        )
        .route("/downloads/forms/{form_code}", get(office::forms_zip))
        // Inside the page policy: it sees the caller the policy resolved.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::replica::note_writes,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), page_policy))
        .layer(middleware::from_fn(csrf_guard))
        .layer(middleware::from_fn(page_layer))
        .with_state(state)
}

/// Compression of text answers (HTML, CSS, JavaScript, JSON); workbooks are zip files
/// already and pass through as they are.
pub fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::{CompressionLayer, Predicate, predicate::SizeAbove};
    let text_like =
        |_: StatusCode, _: axum::http::Version, h: &HeaderMap, _: &axum::http::Extensions| {
            h.get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    ct.starts_with("text/")
                        || ct.starts_with("application/json")
                        || ct.starts_with("application/problem+json")
                        || ct.starts_with("application/javascript")
                })
        };
    CompressionLayer::new().compress_when(SizeAbove::new(256).and(text_like))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn a_cookie_is_found_among_several() {
        let h = headers(&[("cookie", "a=1; kiemke_session=kk_abc; kiemke_lang=en")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("kk_abc"));
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn the_language_cookie_wins_over_accept_language() {
        let h = headers(&[("cookie", "kiemke_lang=vi"), ("accept-language", "en-US")]);
        assert_eq!(lang_of(&h), Lang::Vi);
        let h = headers(&[("accept-language", "en-US,en;q=0.9")]);
        assert_eq!(lang_of(&h), Lang::En);
        assert_eq!(lang_of(&HeaderMap::new()), Lang::Vi);
    }

    #[test]
    fn a_post_from_another_origin_is_not_same_origin() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(same_origin(&ok));
        let evil = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        assert!(!same_origin(&evil));
        let null = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(!same_origin(&null));
        let null_same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(same_origin(&null_same));
        let null_cross = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!same_origin(&null_cross));
        let cross = headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]);
        assert!(!same_origin(&cross));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
    }

    #[test]
    fn form_tokens_differ_per_session_and_are_not_the_stored_hash() {
        let a = csrf_token("kk_aaaa");
        let b = csrf_token("kk_bbbb");
        assert_ne!(a, b);
        assert_eq!(a, csrf_token("kk_aaaa"));
        assert!(!sessions::token_hash("kk_aaaa").starts_with(&a));
    }

    #[test]
    fn every_page_route_declares_who_may_use_it() {
        let mut declared: Vec<(&str, &str)> = PAGES.iter().map(|(m, r, _)| (*m, *r)).collect();
        declared.sort();
        declared.dedup();
        assert_eq!(declared.len(), PAGES.len(), "a page is declared twice");
        assert_eq!(
            page_access(&Method::POST, "/units/{unit_id}/types/{type_code}/submit"),
            Some(Some(ENTRY))
        );
        assert_eq!(page_access(&Method::HEAD, "/login"), Some(None));
        assert_eq!(page_access(&Method::DELETE, "/"), None);
    }

    #[test]
    fn static_files_have_content_hashed_urls() {
        let urls = static_urls();
        assert!(urls.pico.starts_with("/static/pico.min.") && urls.pico.ends_with(".css"));
        assert!(urls.htmx.ends_with(".js"));
        assert_ne!(urls.site, "/static/site.css");
    }
}
