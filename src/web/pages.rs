//! The page handlers: read the request, call the same domain functions as the API,
//! render a template. No SQL, no rule and no label is written here.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Path, Query, RawForm, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{
    LANG_COOKIE, SESSION_COOKIE, StaticUrls, Texts, WebResult, WebUser, html, static_urls, text,
};
use crate::{
    access::ClientAddr,
    assets::{self, AssetFilter, AssetSort, AssetView},
    auth::{Actor, Role, Scope},
    campaigns, clock,
    entities::campaign,
    error::{AppError, FieldError, Lang},
    forms::{FieldDef, FieldType, Form, Record, Value, record},
    numfmt::{vn_money, vn_number},
    pagination::PageQuery,
    registrations,
    reports::{self, ReportState, ReportView, SubmitRequest},
    sessions,
    state::AppState,
    units, users,
    workbooks::read::human_input,
};

/// What the layout shows around every page.
pub struct Layout {
    pub t: &'static Texts,
    pub s: StaticUrls,
    pub user: Option<String>,
    pub role: &'static str,
    pub unit_name: Option<String>,
    pub csrf: String,
    pub flash: Option<&'static str>,
}

fn lang() -> Lang {
    Lang::current()
}

fn t() -> &'static Texts {
    text::of(lang())
}

/// The caller's role as the header names it: a finance officer bound to a province is the
/// province's finance department, not a ward's office.
fn role_label(t: &'static Texts, actor: &Actor) -> &'static str {
    match actor.role {
        Role::Admin => t.role_admin,
        Role::FinanceOfficer if matches!(actor.scope, Scope::Province(_)) => {
            t.role_province_finance_officer
        }
        Role::FinanceOfficer => t.role_finance_officer,
        Role::UnitAccountant => t.role_unit_accountant,
        Role::Viewer => t.role_viewer,
    }
}

/// The layout for a signed-in user.
pub(super) fn layout_for(u: &WebUser, unit_name: Option<String>) -> Layout {
    layout(Some(u), unit_name)
}

fn layout(u: Option<&WebUser>, unit_name: Option<String>) -> Layout {
    let t = t();
    Layout {
        t,
        s: static_urls(),
        user: u.map(|u| u.actor.username.clone()),
        role: u.map(|u| role_label(t, &u.actor)).unwrap_or(""),
        unit_name,
        csrf: u.map(|u| u.csrf.clone()).unwrap_or_default(),
        flash: None,
    }
}

/// A date as Vietnamese readers write it.
pub fn vn_date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// An instant in Vietnam time, `dd/mm/yyyy hh:mm`.
pub fn vn_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&clock::vietnam())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A stored value as the pages show it: money and quantities with thousands dots, codes
/// by their option label, dates as dd/mm/yyyy.
pub fn show(field: &FieldDef, v: &Value) -> String {
    match v {
        Value::Money(n) => vn_money(*n),
        Value::Milli(n) => vn_number(*n as f64 / 1000.0),
        Value::Int(n) if field.kind != FieldType::Year => vn_number(*n as f64),
        Value::Code(c) => field
            .option(c)
            .map(|o| o.label.get(lang()).to_string())
            .unwrap_or_else(|| c.clone()),
        Value::Bool(b) => if *b { t().yes } else { t().no }.to_string(),
        other => other.to_text(field),
    }
}

/// A value as it goes back into an input (what a person would type).
fn input_text(field: &FieldDef, v: &Value) -> String {
    match v {
        Value::Code(c) => c.clone(),
        Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Value::Money(_) | Value::Milli(_) | Value::Int(_) => show(field, v),
        other => other.to_text(field),
    }
}

pub(super) fn state_label(t: &Texts, s: ReportState) -> &'static str {
    match s {
        ReportState::NotStarted => t.state_not_started,
        ReportState::Draft => t.state_draft,
        ReportState::Submitted => t.state_submitted,
        ReportState::Returned => t.state_returned,
        ReportState::Accepted => t.state_accepted,
    }
}

/// The campaign the pages work on: the newest open one, else the newest.
async fn current_campaign(state: &AppState) -> WebResult<Option<campaign::Model>> {
    let page = campaigns::list(
        state,
        &PageQuery {
            page: Some(1),
            per_page: Some(20),
        },
    )
    .await?;
    let pick = page
        .items
        .iter()
        .find(|c| c.status == campaigns::CampaignStatus::Open)
        .or(page.items.first());
    Ok(match pick {
        Some(c) => Some(campaigns::get(&state.db, c.id).await?),
        None => None,
    })
}

pub(super) async fn campaign_or_404(state: &AppState) -> WebResult<campaign::Model> {
    current_campaign(state)
        .await?
        .ok_or_else(|| AppError::not_found("đợt kiểm kê", "Campaign").into())
}

pub(super) fn form_of(state: &AppState, type_code: &str) -> WebResult<std::sync::Arc<Form>> {
    state
        .forms
        .form_for_type(type_code)
        .cloned()
        .ok_or_else(|| AppError::not_found("loại tài sản", "Asset type").into())
}

/// Reads a form body; an unreadable one is a 400 page.
pub(super) fn parse_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> WebResult<T> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        AppError::bad_request(
            "Biểu mẫu gửi lên không đọc được.",
            "The form sent cannot be read.",
        )
        .into()
    })
}

pub(super) fn redirect_see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------- login, logout, language

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    username: String,
    error: Option<String>,
    info: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    out: Option<String>,
    changed: Option<String>,
}

/// `GET /login`.
pub async fn login_page(Query(q): Query<LoginQuery>) -> WebResult {
    let t = t();
    html(&LoginPage {
        l: layout(None, None),
        username: String::new(),
        error: None,
        info: if q.changed.is_some() {
            Some(t.password_changed)
        } else if q.out.is_some() {
            Some(t.logged_out)
        } else {
            None
        },
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("kiemke_session=; Path=/; Max-Age=0"))
}

/// `POST /login`: the API's login, with the token kept in an HttpOnly cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    RawForm(body): RawForm,
) -> WebResult {
    let f: LoginForm = parse_form(&body)?;
    let t = t();
    let again = |error: String, username: String| -> WebResult {
        let mut res = html(&LoginPage {
            l: layout(None, None),
            username,
            error: Some(error),
            info: None,
        })?;
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        Ok(res)
    };
    let username = f.username.trim().to_string();
    if username.is_empty() || f.password.is_empty() || username.len() > 64 || f.password.len() > 128
    {
        return again(t.login_missing.to_string(), username);
    }
    let req = sessions::LoginRequest {
        username: username.clone(),
        password: f.password,
    };
    match sessions::login(&state, &req, &addr)
        .await
        .map_err(sessions::LoginError::into_app_error)
    {
        Ok(ok) => {
            let mut res = redirect_see_other("/");
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &ok.token, state.settings.token_hours * 3600),
            );
            Ok(res)
        }
        Err(e) if e.status().is_client_error() => {
            let (_, doc) = e.to_problem(lang());
            again(doc.detail, username)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`: revokes the session, as the API's logout does.
pub async fn logout(State(state): State<AppState>, u: WebUser) -> WebResult {
    sessions::logout(&state, &u.actor).await?;
    let mut res = redirect_see_other("/login?out=1");
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(res)
}

/// `GET /lang/{vi|en}`: remembers the language in a cookie and goes back home.
pub async fn set_lang(Path(code): Path<String>) -> Response {
    let code = if code == "en" { "en" } else { "vi" };
    let mut res = redirect_see_other("/");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={code}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    l: Layout,
    errors: Vec<(String, String)>,
}

/// `GET /password`.
pub async fn password_page(u: WebUser) -> WebResult {
    html(&PasswordPage {
        l: layout(Some(&u), None),
        errors: vec![],
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /password`: the API's password change (which logs every session out).
pub async fn change_password(
    State(state): State<AppState>,
    u: WebUser,
    ClientAddr(addr): ClientAddr,
    RawForm(body): RawForm,
) -> WebResult {
    use validator::Validate;
    let f: PasswordForm = parse_form(&body)?;
    let req = users::PasswordChange {
        current_password: f.current_password,
        new_password: f.new_password,
    };
    let result = match req.validate() {
        Ok(()) => users::change_own_password(&state, &u.actor, &req, &addr)
            .await
            .map_err(sessions::LoginError::into_app_error),
        Err(e) => Err(AppError::validation(crate::error::flatten(&e))),
    };
    match result {
        Ok(()) => {
            let mut res = redirect_see_other("/login?changed=1");
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
            Ok(res)
        }
        Err(e) if e.status().is_client_error() => {
            let (_, doc) = e.to_problem(lang());
            let mut errors: Vec<(String, String)> = doc
                .errors
                .into_iter()
                .map(|f| (f.field, f.message))
                .collect();
            if errors.is_empty() {
                errors.push((String::new(), doc.detail));
            }
            let mut res = html(&PasswordPage {
                l: layout(Some(&u), None),
                errors,
            })?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- home

struct Card {
    type_code: String,
    type_name: String,
    form_code: String,
    state: &'static str,
    state_class: &'static str,
    records: String,
    original_cost: String,
    remaining_value: String,
    deadline: String,
    returned: bool,
    editable: bool,
    last_change: Option<String>,
    return_reason: Option<String>,
    comments: Vec<(String, String)>,
    next_label: &'static str,
    next_href: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    campaign: Option<CampaignInfo>,
    unit_id: i64,
    units: Vec<(i64, String)>,
    registration: Option<registrations::RegistrationView>,
    cards: Vec<Card>,
    message: Option<&'static str>,
}

struct CampaignInfo {
    name: String,
    cutoff: String,
    deadline: String,
    due: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "other_role.html")]
struct OtherRolePage {
    l: Layout,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    unit: Option<i64>,
}

pub(super) fn due_text(t: &Texts, days: i64) -> String {
    match days {
        0 => t.due_today.to_string(),
        d if d > 0 => t.with_n(t.days_left, d),
        d => t.with_n(t.days_overdue, -d),
    }
}

/// `GET /`: "Việc cần làm", the accountant's task list.
pub async fn home(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<HomeQuery>,
) -> WebResult {
    let t = t();
    if u.actor.role == Role::Admin {
        return Ok(redirect_see_other("/admin"));
    }
    // The finance office's and the chairman's home is the board.
    if super::office::is_office(u.actor.role) {
        return Ok(redirect_see_other("/board"));
    }
    if u.actor.role != Role::UnitAccountant {
        return html(&OtherRolePage {
            l: layout(Some(&u), None),
        });
    }
    let mut unit_names = Vec::new();
    for id in &u.actor.unit_ids {
        unit_names.push((*id, units::get(&state.db, *id).await?.name));
    }
    let Some(unit_id) =
        q.unit
            .filter(|id| u.actor.unit_ids.contains(id))
            .or(u.actor.unit_ids.first().copied())
    else {
        return html(&HomePage {
            l: layout(Some(&u), None),
            campaign: None,
            unit_id: 0,
            units: unit_names,
            registration: None,
            cards: vec![],
            message: Some(t.no_unit),
        });
    };
    let unit_name = unit_names
        .iter()
        .find(|(id, _)| *id == unit_id)
        .map(|(_, n)| n.clone());
    let Some(c) = current_campaign(&state).await? else {
        return html(&HomePage {
            l: layout(Some(&u), unit_name),
            campaign: None,
            unit_id,
            units: unit_names,
            registration: None,
            cards: vec![],
            message: Some(t.no_campaign),
        });
    };
    let now = state.clock.now();
    let days = clock::days_left(now, c.submission_deadline);
    let info = CampaignInfo {
        name: c.name.clone(),
        cutoff: vn_time(c.cutoff_at),
        deadline: vn_date(c.submission_deadline),
        due: due_text(t, days),
        overdue: days < 0,
    };
    let registration = match registrations::get(&state, c.id, unit_id).await {
        Ok(r) => Some(r),
        Err(e) if e.status() == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    let mut cards = Vec::new();
    if registration.is_some() {
        for r in reports::list(&state, c.id, unit_id).await? {
            cards.push(card(&state, t, unit_id, &r).await?);
        }
    }
    html(&HomePage {
        l: layout(Some(&u), unit_name),
        campaign: Some(info),
        unit_id,
        units: unit_names,
        message: registration.is_none().then_some(t.no_registration),
        registration,
        cards,
    })
}

async fn card(
    state: &AppState,
    t: &'static Texts,
    unit_id: i64,
    r: &ReportView,
) -> WebResult<Card> {
    let base = format!("/units/{unit_id}/types/{}", r.asset_type);
    let (next_label, next_href) = match r.state {
        ReportState::NotStarted => (t.action_enter, format!("{base}/new")),
        ReportState::Draft | ReportState::Returned => (t.action_submit, format!("{base}/submit")),
        ReportState::Submitted | ReportState::Accepted => (t.action_list, base.clone()),
    };
    let mut comments = Vec::new();
    if r.state == ReportState::Returned {
        for c in &r.return_comments {
            let code = match assets::get(state, c.asset_id).await {
                Ok(a) => a
                    .values
                    .get("code")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                Err(_) => format!("#{}", c.asset_id),
            };
            comments.push((code, c.comment.clone()));
        }
    }
    // The record changed last: the domain's list sorted by change, one row.
    let latest = assets::list(
        state,
        r.campaign_id,
        unit_id,
        &AssetFilter {
            asset_type: Some(r.asset_type.clone()),
            section: None,
            usage_status: None,
            origin: None,
            q: None,
            sort: Some(AssetSort::UpdatedDesc),
        },
        &PageQuery {
            page: Some(1),
            per_page: Some(1),
        },
    )
    .await?;
    let last_change = latest.items.first().map(|a| vn_time(a.updated_at));
    let type_name = state
        .forms
        .form_for_type(&r.asset_type)
        .map(|f| f.asset_type.name.get(lang()).to_string())
        .unwrap_or_default();
    Ok(Card {
        type_code: r.asset_type.clone(),
        type_name,
        form_code: r.form_code.clone(),
        state: state_label(t, r.state),
        state_class: r.state.as_str(),
        records: vn_number(r.record_count as f64),
        original_cost: vn_money(r.original_cost),
        remaining_value: vn_money(r.remaining_value),
        deadline: vn_date(r.deadline),
        returned: r.state == ReportState::Returned,
        editable: !r.state.is_sent(),
        last_change,
        return_reason: r.return_reason.clone(),
        comments,
        next_label,
        next_href,
    })
}

// ---------------------------------------------------------------- registration

#[derive(Template)]
#[template(path = "registration.html")]
struct RegistrationPage {
    l: Layout,
    unit_id: i64,
    reg: registrations::RegistrationView,
    decision_date: String,
    registered_at: String,
    types: Vec<(String, String, String, String)>,
}

/// `GET /units/{unit_id}/registration`.
pub async fn registration(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let reg = registrations::get(&state, c.id, unit_id).await?;
    let types = reg
        .asset_types
        .iter()
        .filter_map(|code| state.forms.form_for_type(code))
        .map(|f| {
            (
                f.asset_type.code.clone(),
                f.asset_type.name.get(lang()).to_string(),
                f.code.clone(),
                f.title.get(lang()).to_string(),
            )
        })
        .collect();
    html(&RegistrationPage {
        l: layout(Some(&u), Some(unit.name)),
        unit_id,
        decision_date: reg.team_decision_date.map(vn_date).unwrap_or_default(),
        registered_at: vn_time(reg.registered_at),
        types,
        reg,
    })
}

// ---------------------------------------------------------------- asset list

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    usage_status: String,
    #[serde(default)]
    sort: String,
    page: Option<u64>,
    saved: Option<String>,
    deleted: Option<String>,
}

struct Row {
    id: i64,
    code: String,
    name: String,
    /// The finance office's comment while the report is returned.
    comment: Option<String>,
    section: String,
    status: String,
    original_cost: String,
    remaining_value: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    l: Layout,
    base: String,
    /// Export profiles besides the default flat sheet: (code, name).
    profiles: Vec<(String, String)>,
    type_code: String,
    type_name: String,
    form_code: String,
    editable: bool,
    q: String,
    section: String,
    usage_status: String,
    sort: String,
    sections: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    sorts: Vec<(String, String)>,
    rows: Vec<Row>,
    total_count: String,
    total_cost: String,
    total_remaining: String,
    type_has_records: bool,
    page: u64,
    pages: String,
    found: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    label_code: String,
    label_name: String,
    label_section: String,
    label_status: String,
    label_cost: String,
    label_remaining: String,
}

pub(super) fn label(form: &Form, key: &str) -> String {
    form.field(key)
        .map(|f| f.label.get(lang()).to_string())
        .unwrap_or_else(|| key.to_string())
}

fn options(form: &Form, key: &str) -> Vec<(String, String)> {
    form.field(key)
        .map(|f| {
            f.options
                .iter()
                .map(|o| (o.code.clone(), o.label.get(lang()).to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn sections_of(form: &Form) -> Vec<(String, String)> {
    form.sections
        .iter()
        .map(|s| {
            (
                s.code.clone(),
                format!("{} — {}", s.code, s.name.get(lang())),
            )
        })
        .collect()
}

pub(super) fn cell(form: &Form, view: &AssetView, key: &str) -> String {
    let Some(field) = form.field(key) else {
        return String::new();
    };
    let raw = view
        .values
        .get(key)
        .or_else(|| view.values.get("fields").and_then(|f| f.get(key)));
    match raw.map(|j| Value::from_json(field, j)) {
        Some(Ok(Some(v))) => show(field, &v),
        _ => String::new(),
    }
}

pub(super) fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Matches of a filtered list counted exactly; beyond, the page says "more than" (the pages up
/// to the one shown are always counted, so paging on never stops early).
const COUNT_LIMIT: u64 = 1000;

/// `GET /units/{unit_id}/types/{type_code}`: one page of the unit's assets of a type.
pub async fn asset_list(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let t = t();
    let form = form_of(&state, &type_code)?;
    let c = campaign_or_404(&state).await?;
    let report = reports::get(&state, c.id, unit_id, &type_code).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let sort = match q.sort.as_str() {
        "name" => AssetSort::Name,
        "cost" => AssetSort::OriginalCostDesc,
        "updated" => AssetSort::UpdatedDesc,
        _ => AssetSort::Code,
    };
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let filter = AssetFilter {
        asset_type: Some(type_code.clone()),
        section: nonempty(&q.section).filter(|s| s.len() <= 8),
        usage_status: nonempty(&q.usage_status).filter(|s| s.len() <= 2),
        origin: None,
        q: nonempty(&q.q).map(|s| s.chars().take(100).collect()),
        sort: Some(sort),
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (page, exact) = assets::list_counted(
        &state,
        c.id,
        unit_id,
        &filter,
        &PageQuery {
            page: Some(page_no),
            per_page: Some(50),
        },
        assets::Count::AtLeast(COUNT_LIMIT),
    )
    .await?;
    let sums =
        reports::list_totals(&state, c.id, unit_id, &type_code, filter.section.as_deref()).await?;
    let rows = page
        .items
        .iter()
        .map(|a| Row {
            id: a.id,
            code: cell(&form, a, "code"),
            name: cell(&form, a, "name"),
            comment: (report.state == ReportState::Returned)
                .then(|| {
                    report
                        .return_comments
                        .iter()
                        .find(|c| c.asset_id == a.id)
                        .map(|c| c.comment.clone())
                })
                .flatten(),
            section: a
                .values
                .get("section")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            status: cell(&form, a, "usage_status"),
            original_cost: cell(&form, a, "original_cost"),
            remaining_value: cell(&form, a, "remaining_value"),
        })
        .collect();
    let base = format!("/units/{unit_id}/types/{type_code}");
    let pages = page.total.div_ceil(50).max(1);
    let query_for = |p: u64| {
        format!(
            "{base}?q={}&section={}&usage_status={}&sort={}&page={p}",
            url_encode(&q.q),
            url_encode(&q.section),
            url_encode(&q.usage_status),
            url_encode(&q.sort)
        )
    };
    let mut l = layout(Some(&u), Some(unit.name));
    l.flash = if q.saved.is_some() {
        Some(t.saved)
    } else if q.deleted.is_some() {
        Some(t.deleted)
    } else {
        None
    };
    html(&ListPage {
        profiles: state
            .forms
            .profiles()
            .all()
            .filter(|p| p.code != crate::forms::DEFAULT_PROFILE)
            .map(|p| (p.code.clone(), p.name.get(lang()).to_string()))
            .collect(),
        l,
        type_name: form.asset_type.name.get(lang()).to_string(),
        form_code: form.code.clone(),
        editable: !report.state.is_sent() && u.may_enter(),
        sections: sections_of(&form),
        statuses: options(&form, "usage_status"),
        sorts: vec![
            ("code", t.sort_code),
            ("name", t.sort_name),
            ("cost", t.sort_cost),
            ("updated", t.sort_updated),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
        rows,
        total_count: vn_number(sums.count as f64),
        total_cost: vn_money(sums.original_cost),
        total_remaining: vn_money(sums.remaining_value),
        type_has_records: report.record_count > 0,
        page: page_no,
        pages: if exact {
            vn_number(pages as f64)
        } else {
            format!("{} {}", t.more_than, vn_number(pages as f64))
        },
        found: if exact {
            vn_number(page.total as f64)
        } else {
            format!("{} {}", t.more_than, vn_number(page.total as f64))
        },
        prev_href: (page_no > 1).then(|| query_for(page_no - 1)),
        next_href: (page_no < pages || !exact).then(|| query_for(page_no + 1)),
        label_code: label(&form, "code"),
        label_name: label(&form, "name"),
        label_section: t.section.to_string(),
        label_status: label(&form, "usage_status"),
        label_cost: label(&form, "original_cost"),
        label_remaining: label(&form, "remaining_value"),
        q: q.q,
        section: q.section,
        usage_status: q.usage_status,
        sort: q.sort,
        type_code,
        base,
    })
}

// ---------------------------------------------------------------- asset entry and edit

/// One input of the asset form.
pub struct Input {
    pub key: String,
    pub label: String,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub required: bool,
    pub kind: &'static str,
    pub options: Vec<(String, String)>,
    pub value: String,
    pub error: Option<String>,
    pub derived: bool,
    pub theirs: Option<String>,
}

#[derive(Template)]
#[template(path = "asset_form.html")]
struct AssetFormPage {
    l: Layout,
    title: &'static str,
    action: String,
    back: String,
    derive_url: String,
    form_title: String,
    section: Option<(String, String)>,
    inputs: Vec<Input>,
    summary: Vec<(String, String)>,
    version: Option<i32>,
    conflict: Option<String>,
    asset_id: Option<i64>,
    /// Shown, not editable: a locked report, or a role that only reads.
    readonly: bool,
}

#[derive(Template)]
#[template(path = "section_pick.html")]
struct SectionPage {
    l: Layout,
    action: String,
    back: String,
    form_title: String,
    sections: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePanel {
    derived: Vec<(String, String, String)>,
    issues: Vec<(String, String, String)>,
}

/// Keys a difference rule fills in when left empty (chênh lệch, giá trị còn lại).
fn derived_keys(form: &Form) -> Vec<String> {
    use crate::forms::RuleKind;
    form.rules
        .iter()
        .filter(|r| r.kind == RuleKind::Difference)
        .filter_map(|r| r.fields.last().cloned())
        .collect()
}

fn kind_of(f: &FieldDef) -> &'static str {
    match f.kind {
        FieldType::Enum => "select",
        FieldType::Boolean => "bool",
        FieldType::Money
        | FieldType::Integer
        | FieldType::Decimal
        | FieldType::Area
        | FieldType::LengthKm
        | FieldType::Year => "number",
        FieldType::Date => "date",
        _ => "text",
    }
}

/// The fields of one section of a form, in the definition's order (the section itself excluded).
fn fields_for<'a>(form: &'a Form, section: Option<&str>) -> Vec<&'a FieldDef> {
    form.fields
        .iter()
        .filter(|f| f.key != "section" && f.applies_to(section))
        .collect()
}

fn inputs(
    form: &Form,
    section: Option<&str>,
    typed: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    theirs: Option<&Record>,
) -> Vec<Input> {
    let derived = derived_keys(form);
    fields_for(form, section)
        .into_iter()
        .map(|f| Input {
            key: f.key.clone(),
            label: f.label.get(lang()).to_string(),
            help: f.help.as_ref().map(|h| h.get(lang()).to_string()),
            unit: f.unit.clone(),
            required: f.required,
            kind: kind_of(f),
            options: f
                .options
                .iter()
                .map(|o| (o.code.clone(), o.label.get(lang()).to_string()))
                .collect(),
            value: typed.get(&f.key).cloned().unwrap_or_default(),
            error: errors.get(&f.key).cloned(),
            derived: derived.contains(&f.key),
            // Beside a field only where the other person's value differs from the user's.
            theirs: theirs.and_then(|r| {
                let mine = human_input(f, typed.get(&f.key).map(String::as_str).unwrap_or(""))
                    .ok()
                    .flatten();
                let other = r.get(&f.key);
                (other != mine.as_ref()).then(|| other.map(|v| show(f, v)).unwrap_or_default())
            }),
        })
        .collect()
}

/// The typed form body, field key → text (the first value of each name).
fn typed_of(body: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// Reads the typed values of a section's fields with the shared human-input parser.
fn read_typed(
    form: &Form,
    section: Option<&str>,
    typed: &BTreeMap<String, String>,
) -> (Record, Vec<String>, BTreeMap<String, String>) {
    let mut record = Record::new();
    let mut empty = Vec::new();
    let mut errors = BTreeMap::new();
    if let Some(s) = section {
        record.insert("section".into(), Value::Code(s.to_string()));
    }
    for f in fields_for(form, section) {
        let text = typed.get(&f.key).map(String::as_str).unwrap_or("");
        match human_input(f, text) {
            Ok(Some(v)) => {
                record.insert(f.key.clone(), v);
            }
            Ok(None) => empty.push(f.key.clone()),
            Err(e) => {
                errors.insert(f.key.clone(), e.message.get(lang()).to_string());
            }
        }
    }
    (record, empty, errors)
}

/// Adds the domain's own check of what could be read to the parse errors, so that every
/// problem shows at once (a field that could not be read is reported once, by its parser).
fn add_rule_errors(
    form: &Form,
    record: &Record,
    cutoff: DateTime<Utc>,
    errors: &mut BTreeMap<String, String>,
) {
    let mut record = record.clone();
    let unreadable: Vec<String> = errors.keys().cloned().collect();
    for i in record::check_issues(form, &mut record, cutoff, false) {
        if unreadable.contains(&i.field) {
            continue;
        }
        errors
            .entry(i.field)
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(i.message.get(lang()));
            })
            .or_insert_with(|| i.message.get(lang()).to_string());
    }
}

/// The JSON body the domain reads: the record, and `null` for each emptied field.
fn body_of(record: &Record, empty: &[String], type_code: &str, version: Option<i32>) -> Json {
    let mut top = record::record_json(record);
    for k in empty {
        if Form::is_core(k) {
            top.insert(k.clone(), Json::Null);
        } else if let Some(Json::Object(own)) = top.get_mut("fields") {
            own.insert(k.clone(), Json::Null);
        }
    }
    top.insert("asset_type".into(), Json::String(type_code.to_string()));
    if let Some(v) = version {
        top.insert("version".into(), Json::from(v));
    }
    Json::Object(top)
}

/// Field errors of the domain by field key (`fields.x` → `x`), and the rest; a problem that
/// names no field shows its detail on top.
fn split_errors(
    errors: Vec<FieldError>,
    detail_vi: &str,
    detail_en: &str,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut by_key = BTreeMap::new();
    let mut other = Vec::new();
    for e in errors {
        let key = e
            .field
            .strip_prefix("fields.")
            .unwrap_or(&e.field)
            .to_string();
        if key.is_empty() {
            other.push(e.message);
        } else {
            by_key
                .entry(key)
                .and_modify(|m: &mut String| {
                    m.push_str("; ");
                    m.push_str(&e.message);
                })
                .or_insert(e.message);
        }
    }
    if by_key.is_empty() && other.is_empty() {
        other.push(lang().pick(detail_vi, detail_en).to_string());
    }
    (by_key, other)
}

fn summary_of(
    form: &Form,
    errors: &BTreeMap<String, String>,
    other: &[String],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = form
        .fields
        .iter()
        .filter_map(|f| {
            errors.get(&f.key).map(|m| {
                (
                    format!("#f-{}", f.key),
                    format!("{}: {m}", f.label.get(lang())),
                )
            })
        })
        .collect();
    out.extend(other.iter().map(|m| (String::new(), m.clone())));
    out
}

fn section_of(form: &Form, code: Option<&str>) -> Option<(String, String)> {
    let code = code?;
    form.section(code)
        .map(|s| (s.code.clone(), s.name.get(lang()).to_string()))
}

#[derive(Deserialize)]
pub struct NewQuery {
    section: Option<String>,
}

/// `GET /units/{unit_id}/types/{type_code}/new`: the section first, then its fields.
pub async fn new_asset(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    Query(q): Query<NewQuery>,
) -> WebResult {
    let form = form_of(&state, &type_code)?;
    let unit = units::get(&state.db, unit_id).await?;
    let base = format!("/units/{unit_id}/types/{type_code}");
    let section = q.section.filter(|s| form.section(s).is_some());
    if form.has_sections() && section.is_none() {
        return html(&SectionPage {
            l: layout(Some(&u), Some(unit.name)),
            action: format!("{base}/new"),
            back: base,
            form_title: form.title.get(lang()).to_string(),
            sections: sections_of(&form),
        });
    }
    let mut typed = BTreeMap::new();
    for f in &form.fields {
        if let Some(d) = &f.default_code {
            typed.insert(f.key.clone(), d.clone());
        }
    }
    html(&AssetFormPage {
        l: layout(Some(&u), Some(unit.name)),
        title: t().new_title,
        action: format!("{base}/new"),
        derive_url: format!("{base}/derive"),
        back: base,
        form_title: form.title.get(lang()).to_string(),
        inputs: inputs(&form, section.as_deref(), &typed, &BTreeMap::new(), None),
        section: section_of(&form, section.as_deref()),
        summary: vec![],
        version: None,
        conflict: None,
        asset_id: None,
        readonly: false,
    })
}

/// `POST /units/{unit_id}/types/{type_code}/new`: checks and creates, or shows every error.
pub async fn create_asset(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    RawForm(body): RawForm,
) -> WebResult {
    let form = form_of(&state, &type_code)?;
    let c = campaign_or_404(&state).await?;
    let typed = typed_of(&body);
    let section = typed
        .get("section")
        .filter(|s| form.section(s).is_some())
        .cloned();
    let base = format!("/units/{unit_id}/types/{type_code}");
    let (record, empty, mut errors) = read_typed(&form, section.as_deref(), &typed);
    let mut other = Vec::new();
    if !errors.is_empty() {
        add_rule_errors(&form, &record, c.cutoff_at, &mut errors);
    } else {
        let body = body_of(&record, &empty, &type_code, None);
        match assets::create(&state, &u.actor, c.id, unit_id, &body).await {
            Ok(_) => return Ok(redirect_see_other(&format!("{base}?saved=1"))),
            Err(AppError::Problem {
                kind,
                errors: fe,
                detail_vi,
                detail_en,
                ..
            }) if kind.status().is_client_error() => {
                (errors, other) = split_errors(fe, &detail_vi, &detail_en);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let unit = units::get(&state.db, unit_id).await?;
    let mut res = html(&AssetFormPage {
        l: layout(Some(&u), Some(unit.name)),
        title: t().new_title,
        action: format!("{base}/new"),
        derive_url: format!("{base}/derive"),
        back: base,
        form_title: form.title.get(lang()).to_string(),
        inputs: inputs(&form, section.as_deref(), &typed, &errors, None),
        section: section_of(&form, section.as_deref()),
        summary: summary_of(&form, &errors, &other),
        version: None,
        conflict: None,
        asset_id: None,
        readonly: false,
    })?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// `POST …/derive` (htmx, as the user types): the values the server derives and the
/// problems of the record so far, computed by the domain's own check.
pub async fn derive(
    State(state): State<AppState>,
    _: WebUser,
    Path((_, type_code)): Path<(i64, String)>,
    RawForm(body): RawForm,
) -> WebResult {
    let form = form_of(&state, &type_code)?;
    let c = campaign_or_404(&state).await?;
    let typed = typed_of(&body);
    let section = typed
        .get("section")
        .filter(|s| form.section(s).is_some())
        .cloned();
    let (mut record, _, parse_errors) = read_typed(&form, section.as_deref(), &typed);
    let mut issues: Vec<(String, String, String)> = parse_errors
        .into_iter()
        .map(|(k, m)| (k.clone(), label(&form, &k), m))
        .collect();
    let given: Vec<String> = record.keys().cloned().collect();
    for i in record::check_issues(&form, &mut record, c.cutoff_at, false) {
        let typed_something = typed.get(&i.field).is_some_and(|s| !s.trim().is_empty());
        // "Required" is shown once the person has left the field, not while typing elsewhere.
        if i.code == "required" && !typed_something {
            continue;
        }
        issues.push((
            i.field.clone(),
            label(&form, &i.field),
            i.message.get(lang()).to_string(),
        ));
    }
    // What the domain's check filled in: the values the server derives.
    let derived = record
        .keys()
        .filter(|k| !given.contains(k))
        .filter_map(|k| {
            let f = form.field(k)?;
            let v = record.get(k)?;
            Some((k.clone(), f.label.get(lang()).to_string(), show(f, v)))
        })
        .collect();
    html(&LivePanel { derived, issues })
}

/// `GET /assets/{asset_id}`: the edit form with the stored values.
pub async fn edit_asset(
    State(state): State<AppState>,
    u: WebUser,
    Path(asset_id): Path<i64>,
) -> WebResult {
    let view = assets::get(&state, asset_id).await?;
    let form = form_of(&state, &view.asset_type)?;
    let record = record_of_view(&form, &view);
    let section = match record.get("section") {
        Some(Value::Code(s)) => Some(s.clone()),
        _ => None,
    };
    let typed: BTreeMap<String, String> = record
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), input_text(form.field(k)?, v))))
        .collect();
    let unit = units::get(&state.db, view.unit_id).await?;
    let base = format!("/units/{}/types/{}", view.unit_id, view.asset_type);
    let report = reports::get(&state, view.campaign_id, view.unit_id, &view.asset_type).await?;
    let readonly = report.state.is_sent() || !u.may_enter();
    html(&AssetFormPage {
        l: layout(Some(&u), Some(unit.name)),
        title: t().edit_title,
        action: format!("/assets/{asset_id}"),
        derive_url: format!("{base}/derive"),
        back: base,
        form_title: form.title.get(lang()).to_string(),
        inputs: inputs(&form, section.as_deref(), &typed, &BTreeMap::new(), None),
        section: section_of(&form, section.as_deref()),
        summary: vec![],
        version: Some(view.version),
        conflict: None,
        asset_id: Some(asset_id),
        readonly,
    })
}

fn record_of_view(form: &Form, view: &AssetView) -> Record {
    let mut r = Record::new();
    let own = view.values.get("fields").and_then(Json::as_object);
    for f in &form.fields {
        let raw = if Form::is_core(&f.key) {
            view.values.get(&f.key)
        } else {
            own.and_then(|o| o.get(&f.key))
        };
        if let Some(Ok(Some(v))) = raw.map(|j| Value::from_json(f, j)) {
            r.insert(f.key.clone(), v);
        }
    }
    r
}

/// `POST /assets/{asset_id}`: saves the edit with the version it was made on; a conflict
/// shows the other person's values beside the user's and lets them apply theirs again.
pub async fn update_asset(
    State(state): State<AppState>,
    u: WebUser,
    Path(asset_id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let current = assets::get(&state, asset_id).await?;
    let form = form_of(&state, &current.asset_type)?;
    let typed = typed_of(&body);
    let version = typed.get("version").and_then(|v| v.parse::<i32>().ok());
    let section = typed
        .get("section")
        .filter(|s| form.section(s).is_some())
        .cloned();
    let base = format!("/units/{}/types/{}", current.unit_id, current.asset_type);
    let (mut record, mut empty, mut errors) = read_typed(&form, section.as_deref(), &typed);
    // A derived value posted back unchanged is the page's stale copy: the server derives it again
    // from the inputs as they are now (changing the books figure must not need the difference retyped).
    let stored = record_of_view(&form, &current);
    for k in derived_keys(&form) {
        if record.contains_key(&k) && record.get(&k) == stored.get(&k) {
            record.remove(&k);
            empty.push(k);
        }
    }
    let mut other = Vec::new();
    let mut conflict = None;
    let mut theirs = None;
    let mut shown_version = version;
    if !errors.is_empty() {
        let c = campaign_or_404(&state).await?;
        add_rule_errors(&form, &record, c.cutoff_at, &mut errors);
    } else {
        let body = body_of(&record, &empty, &current.asset_type, None);
        match assets::update(&state, &u.actor, asset_id, &body, version).await {
            Ok(_) => return Ok(redirect_see_other(&format!("{base}?saved=1"))),
            Err(AppError::Problem {
                kind: crate::error::Problem::StaleVersion,
                ..
            }) => {
                let latest = assets::get(&state, asset_id).await?;
                let who = assets::history(&state, &u.actor, asset_id)
                    .await?
                    .pop()
                    .map(|h| format!("{} — {}", h.actor.unwrap_or_default(), vn_time(h.at)))
                    .unwrap_or_default();
                conflict = Some(who);
                theirs = Some(record_of_view(&form, &latest));
                shown_version = Some(latest.version);
            }
            Err(AppError::Problem {
                kind,
                errors: fe,
                detail_vi,
                detail_en,
                ..
            }) if kind.status().is_client_error() => {
                (errors, other) = split_errors(fe, &detail_vi, &detail_en);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let unit = units::get(&state.db, current.unit_id).await?;
    let mut res = html(&AssetFormPage {
        l: layout(Some(&u), Some(unit.name)),
        title: t().edit_title,
        action: format!("/assets/{asset_id}"),
        derive_url: format!("{base}/derive"),
        back: base,
        form_title: form.title.get(lang()).to_string(),
        inputs: inputs(&form, section.as_deref(), &typed, &errors, theirs.as_ref()),
        section: section_of(&form, section.as_deref()),
        summary: summary_of(&form, &errors, &other),
        version: shown_version,
        conflict,
        asset_id: Some(asset_id),
        readonly: false,
    })?;
    *res.status_mut() = if theirs.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(res)
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    l: Layout,
    asset_id: i64,
    code: String,
    name: String,
    version: i32,
    back: String,
}

/// `GET /assets/{asset_id}/delete`: asks for confirmation.
pub async fn delete_page(
    State(state): State<AppState>,
    u: WebUser,
    Path(asset_id): Path<i64>,
) -> WebResult {
    let view = assets::get(&state, asset_id).await?;
    let unit = units::get(&state.db, view.unit_id).await?;
    html(&DeletePage {
        l: layout(Some(&u), Some(unit.name)),
        asset_id,
        code: view
            .values
            .get("code")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .into(),
        name: view
            .values
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .into(),
        version: view.version,
        back: format!("/assets/{asset_id}"),
    })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    version: Option<i32>,
}

/// `POST /assets/{asset_id}/delete`.
pub async fn delete_asset(
    State(state): State<AppState>,
    u: WebUser,
    Path(asset_id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let f: DeleteForm = parse_form(&body)?;
    let view = assets::get(&state, asset_id).await?;
    assets::delete(&state, &u.actor, asset_id, f.version).await?;
    Ok(redirect_see_other(&format!(
        "/units/{}/types/{}?deleted=1",
        view.unit_id, view.asset_type
    )))
}

// ---------------------------------------------------------------- history

struct HistoryRow {
    at: String,
    actor: String,
    action: &'static str,
    changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    l: Layout,
    back: String,
    rows: Vec<HistoryRow>,
}

fn flat_values(j: Option<&Json>) -> Map<String, Json> {
    let mut out = Map::new();
    if let Some(Json::Object(o)) = j {
        for (k, v) in o {
            if k == "fields" {
                if let Some(own) = v.as_object() {
                    out.extend(own.clone());
                }
            } else {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// `GET /assets/{asset_id}/history`: each change with who, when, and before/after by field label.
pub async fn history(
    State(state): State<AppState>,
    u: WebUser,
    Path(asset_id): Path<i64>,
) -> WebResult {
    let t = t();
    let entries = assets::history(&state, &u.actor, asset_id).await?;
    let view = assets::get(&state, asset_id).await.ok();
    let form = match &view {
        Some(v) => Some(form_of(&state, &v.asset_type)?),
        None => None,
    };
    let text_of = |key: &str, j: Option<&Json>| -> String {
        let Some(j) = j.filter(|j| !j.is_null()) else {
            return String::new();
        };
        match form.as_ref().and_then(|f| f.field(key)) {
            Some(f) => match Value::from_json(f, j) {
                Ok(Some(v)) => show(f, &v),
                _ => j.to_string(),
            },
            None => j.to_string(),
        }
    };
    let rows = entries
        .iter()
        .map(|e| {
            let before = flat_values(e.before.as_ref());
            let after = flat_values(e.after.as_ref());
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            // In the form's order, as the person entered them.
            let position = |k: &String| {
                form.as_ref()
                    .and_then(|f| f.fields.iter().position(|d| &d.key == k))
                    .unwrap_or(usize::MAX)
            };
            keys.sort_by_key(|k| position(k));
            let changes = keys
                .into_iter()
                .filter(|k| before.get(*k) != after.get(*k))
                .map(|k| {
                    let name = form
                        .as_ref()
                        .and_then(|f| f.field(k))
                        .map(|f| f.label.get(lang()).to_string())
                        .unwrap_or_else(|| k.clone());
                    (name, text_of(k, before.get(k)), text_of(k, after.get(k)))
                })
                .collect();
            HistoryRow {
                at: vn_time(e.at),
                actor: e.actor.clone().unwrap_or_default(),
                action: match e.action.as_str() {
                    "create" => t.action_create,
                    "update" => t.action_update,
                    "delete" => t.action_delete,
                    _ => t.action_import_done,
                },
                changes,
            }
        })
        .collect();
    let unit_name = match &view {
        Some(v) => Some(units::get(&state.db, v.unit_id).await?.name),
        None => None,
    };
    html(&HistoryPage {
        l: layout(Some(&u), unit_name),
        back: format!("/assets/{asset_id}"),
        rows,
    })
}

// ---------------------------------------------------------------- submit

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    l: Layout,
    base: String,
    type_name: String,
    form_code: String,
    state: &'static str,
    locked: bool,
    submitted_at: String,
    digest: String,
    records: i64,
    problems: Vec<(String, String, String)>,
    error: Option<String>,
    returned: bool,
    return_reason: Option<String>,
    comments: Vec<(String, String)>,
    changes: Option<Vec<String>>,
}

async fn submit_view(
    state: &AppState,
    u: &WebUser,
    unit_id: i64,
    type_code: &str,
    error: Option<String>,
) -> WebResult {
    let t = t();
    let form = form_of(state, type_code)?;
    let c = campaign_or_404(state).await?;
    let r = reports::get(state, c.id, unit_id, type_code).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let base = format!("/units/{unit_id}/types/{type_code}");
    let problems = if r.state.is_sent() {
        vec![]
    } else {
        reports::check_ready(state, c.id, unit_id, type_code)
            .await?
            .into_iter()
            .map(|p| {
                // `assets[CODE].field`
                let (code, field) = p
                    .field
                    .strip_prefix("assets[")
                    .and_then(|s| s.split_once("]."))
                    .map(|(c, f)| (c.to_string(), f.to_string()))
                    .unwrap_or_default();
                let key = field.strip_prefix("fields.").unwrap_or(&field);
                (
                    code,
                    format!("{}: {}", label(&form, key), p.message),
                    String::new(),
                )
            })
            .map(|(code, msg, _)| {
                let href = format!("{base}?q={}", url_encode(&code));
                (code, msg, href)
            })
            .collect()
    };
    let mut card = card(state, t, unit_id, &r).await?;
    html(&SubmitPage {
        l: layout(Some(u), Some(unit.name)),
        type_name: form.asset_type.name.get(lang()).to_string(),
        form_code: form.code.clone(),
        state: state_label(t, r.state),
        locked: r.state.is_sent(),
        submitted_at: r.submitted_at.map(vn_time).unwrap_or_default(),
        digest: r.digest.clone().unwrap_or_default(),
        records: r.record_count,
        problems,
        error,
        returned: r.state == ReportState::Returned,
        return_reason: r.return_reason.clone(),
        comments: std::mem::take(&mut card.comments),
        changes: r.changes_since_returned.as_ref().map(|ch| {
            let mut lines: Vec<String> = Vec::new();
            lines.extend(ch.added.iter().map(|c| format!("{}: {c}", t.added)));
            lines.extend(ch.removed.iter().map(|c| format!("{}: {c}", t.removed)));
            lines.extend(ch.changed.iter().map(|c| {
                let fields: Vec<String> = c
                    .fields
                    .iter()
                    .map(|f| label(&form, f.field.strip_prefix("fields.").unwrap_or(&f.field)))
                    .collect();
                format!("{}: {} — {}", t.changed, c.code, fields.join(", "))
            }));
            lines
        }),
        base,
    })
}

/// `GET …/submit`: the readiness check, or the locked banner once sent.
pub async fn submit_page(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
) -> WebResult {
    submit_view(&state, &u, unit_id, &type_code, None).await
}

#[derive(Deserialize)]
pub struct SubmitForm {
    nil_return: Option<String>,
    confirm_nil: Option<String>,
}

/// `POST …/submit`: the API's submission; a nil return needs its explicit confirmation.
pub async fn submit(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    RawForm(body): RawForm,
) -> WebResult {
    let f: SubmitForm = parse_form(&body)?;
    let c = campaign_or_404(&state).await?;
    let nil_return = f.nil_return.is_some();
    if nil_return && f.confirm_nil.is_none() {
        let t = t();
        return submit_view(
            &state,
            &u,
            unit_id,
            &type_code,
            Some(t.nil_return_confirm.into()),
        )
        .await;
    }
    match reports::submit(
        &state,
        &u.actor,
        c.id,
        unit_id,
        &type_code,
        &SubmitRequest { nil_return },
    )
    .await
    {
        Ok(_) => Ok(redirect_see_other(&format!(
            "/units/{unit_id}/types/{type_code}/submit"
        ))),
        Err(e) if e.status().is_client_error() => {
            let (_, doc) = e.to_problem(lang());
            let msg = if doc.errors.is_empty() {
                doc.detail
            } else {
                doc.errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            submit_view(&state, &u, unit_id, &type_code, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- export

/// `GET …/export/{official|flat|<profile>}`: the API's workbook, as a download (`flat` is the
/// default `kiemke` profile; any other export profile by its code).
pub async fn export(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code, layout_name)): Path<(i64, String, String)>,
) -> WebResult {
    let form = form_of(&state, &type_code)?;
    let c = campaign_or_404(&state).await?;
    let flat = match layout_name.as_str() {
        "official" => None,
        "flat" => Some(crate::forms::DEFAULT_PROFILE),
        p if state.forms.profiles().get(p).is_some() => Some(p),
        _ => return Err(AppError::not_found("trang", "Page").into()),
    };
    let wb = crate::workbooks::unit_form(&state, &u.actor, c.id, unit_id, &form.code, flat).await?;
    Ok(wb.into_response())
}
