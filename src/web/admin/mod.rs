//! The admin's pages: accounts, the administrative tree, units, campaigns, registrations on a
//! unit's behalf, and the audit log. Each page reads the form, calls the same domain function as the API
//! ([`crate::users`], [`crate::units`], [`crate::campaigns`], [`crate::registrations`],
//! [`crate::audit`]) and shows every error the domain reports beside its field.

pub mod text;

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, RawForm, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::Value as Json;
use validator::Validate;

use super::{
    Texts, WebError, WebResult, WebUser, html,
    pages::{Layout, campaign_or_404, layout_for, show, vn_date, vn_time},
};
use crate::{
    audit::{self, AuditFilter},
    auth::{Role, password},
    campaigns::{self, CampaignPatch, CampaignStatus, NewCampaign},
    clock,
    error::{AppError, Lang},
    forms::Value,
    numfmt::vn_number,
    pagination::PageQuery,
    registrations::{self, RegistrationInput, TeamMember},
    state::AppState,
    tree::{self, Level, NewNode, NodeFilter, NodePatch},
    units::{self, NewUnit, UnitFilter, UnitKind, UnitPatch},
    users::{self, NewUser, PasswordReset, UserPatch},
};
pub use text::AdminTexts;

/// Rows per page of the admin's lists.
const PER_PAGE: u64 = 50;

fn lang() -> Lang {
    Lang::current()
}

fn a() -> &'static AdminTexts {
    text::of(lang())
}

fn t() -> &'static Texts {
    super::text::of(lang())
}

/// The admin pages' routes (their access is declared in [`super::PAGES`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/users", get(user_list))
        .route("/admin/users/new", get(new_user).post(create_user))
        .route("/admin/users/{user_id}", get(edit_user).post(update_user))
        .route("/admin/users/{user_id}/password", post(reset_password))
        .route("/admin/tree", get(tree_list))
        .route("/admin/tree/new", get(new_node).post(create_node))
        .route("/admin/tree/{node_id}", get(edit_node).post(update_node))
        .route("/admin/units", get(unit_list))
        .route("/admin/units/new", get(new_unit).post(create_unit))
        .route("/admin/units/{unit_id}", get(edit_unit).post(update_unit))
        .route(
            "/admin/units/{unit_id}/registration",
            get(registration_page).post(save_registration),
        )
        .route("/admin/campaigns", get(campaign_list))
        .route(
            "/admin/campaigns/new",
            get(new_campaign).post(create_campaign),
        )
        .route(
            "/admin/campaigns/{campaign_id}",
            get(edit_campaign).post(update_campaign),
        )
        .route("/admin/audit", get(audit_log))
}

// ---------------------------------------------------------------- form fields and errors

/// One input of an admin form (or of a filter bar).
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    /// `text`, `email`, `tel`, `date`, `datetime-local`, `password`, `select`, `checkbox`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub max: usize,
    pub hint: Option<&'static str>,
    pub error: Option<String>,
    /// The shape expected, e.g. `dd/mm/yyyy`.
    pub placeholder: &'static str,
}

impl Field {
    fn new(key: &'static str, label: &'static str, kind: &'static str) -> Field {
        Field {
            key,
            label,
            kind,
            value: String::new(),
            options: vec![],
            required: false,
            max: 0,
            hint: None,
            error: None,
            placeholder: "",
        }
    }
    /// A day typed the Vietnamese way (`dd/mm/yyyy`).
    fn date(key: &'static str, label: &'static str) -> Field {
        Field {
            placeholder: "dd/mm/yyyy",
            max: 10,
            ..Field::new(key, label, "text")
        }
    }
    fn val(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }
    fn req(mut self) -> Field {
        self.required = true;
        self
    }
    fn max(mut self, n: usize) -> Field {
        self.max = n;
        self
    }
    fn hint(mut self, h: &'static str) -> Field {
        self.hint = Some(h);
        self
    }
    fn opts(mut self, o: Vec<(String, String)>) -> Field {
        self.options = o;
        self
    }

    /// The ids of the texts describing the input (its error, its hint).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.error.is_some() {
            ids.push(format!("err-{}", self.key));
        }
        if self.hint.is_some() {
            ids.push(format!("hint-{}", self.key));
        }
        ids.join(" ")
    }

    fn add_error(&mut self, message: &str) {
        match &mut self.error {
            Some(e) => {
                e.push_str("; ");
                e.push_str(message);
            }
            None => self.error = Some(message.to_string()),
        }
    }
}

/// Fills the fields from the posted values (by key).
fn fill(fields: &mut [Field], posted: &BTreeMap<String, String>) {
    for f in fields {
        f.value = posted.get(f.key).cloned().unwrap_or_default();
        if f.kind == "checkbox" && f.value != "true" {
            f.value.clear();
        }
    }
}

/// The form body as key → first value.
fn form_map(body: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The problems of a form: (domain field path, message).
type Problems = Vec<(String, String)>;

/// A domain error to show on the form, or the error page (a missing record, a failure).
fn shown(e: AppError) -> Result<(Problems, String), WebError> {
    let status = e.status();
    if !status.is_client_error() || status == StatusCode::NOT_FOUND {
        return Err(e.into());
    }
    let (_, doc) = e.to_problem(lang());
    Ok((
        doc.errors
            .into_iter()
            .map(|f| (f.field, f.message))
            .collect(),
        doc.detail,
    ))
}

/// The `validator` errors of a request, as the API reports them.
fn invalid(e: &validator::ValidationErrors) -> Problems {
    let (_, doc) = AppError::validation(crate::error::flatten(e)).to_problem(lang());
    doc.errors
        .into_iter()
        .map(|f| (f.field, f.message))
        .collect()
}

/// Puts each problem beside its field (`rename` maps a domain path to a field key) and
/// returns the summary: every field's error linked to it, then the problems of no field.
fn place(
    fields: &mut [Field],
    problems: Problems,
    detail: Option<String>,
    rename: &dyn Fn(&str) -> String,
) -> Vec<(String, String)> {
    let mut other = Vec::new();
    for (path, message) in problems {
        let key = rename(&path);
        match fields.iter_mut().find(|f| f.key == key) {
            Some(f) => {
                // The API names the field by its key; the page by its label.
                let message = message.replace(&format!("«{path}»"), &format!("«{}»", f.label));
                f.add_error(&message);
            }
            None => other.push(message),
        }
    }
    // An empty required box needs no more than that (not "1 to 255 characters").
    for f in fields.iter_mut() {
        if f.required && f.kind == "text" && f.error.is_some() && f.value.trim().is_empty() {
            f.error = Some(a().required.to_string());
        }
    }
    if fields.iter().all(|f| f.error.is_none()) && other.is_empty() {
        other.extend(detail);
    }
    let mut summary: Vec<(String, String)> = fields
        .iter()
        .filter_map(|f| {
            f.error
                .as_ref()
                .map(|e| (format!("#f-{}", f.key), format!("{}: {e}", f.label)))
        })
        .collect();
    summary.extend(other.into_iter().map(|m| (String::new(), m)));
    summary
}

fn same(path: &str) -> String {
    path.to_string()
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn unprocessable(res: Response) -> Response {
    let mut res = res;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// Budget relationship codes typed into one field, separated by commas, spaces or semicolons.
fn codes_of(text: &str) -> Vec<String> {
    text.split([',', ';', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The ids of the units with these codes, or a problem naming each unknown code.
async fn unit_ids_of(
    state: &AppState,
    field: &str,
    text: &str,
    problems: &mut Problems,
) -> WebResult<Vec<i64>> {
    let codes = codes_of(text);
    let (found, missing) = units::by_codes(&state.db, &codes).await?;
    for code in missing {
        problems.push((
            field.to_string(),
            a().unknown_unit_code.replace("{code}", &code),
        ));
    }
    Ok(found.into_iter().map(|u| u.id).collect())
}

fn date_of(field: &str, text: &str, problems: &mut Problems) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok();
    if d.is_none() {
        problems.push((field.to_string(), a().bad_date.to_string()));
    }
    d
}

fn required_date(field: &str, text: &str, problems: &mut Problems) -> Option<NaiveDate> {
    if text.trim().is_empty() {
        problems.push((field.to_string(), a().required.to_string()));
        return None;
    }
    date_of(field, text, problems)
}

/// A local Vietnam instant typed as `dd/mm/yyyy hh:mm` (or `yyyy-mm-ddThh:mm`; a day alone is 0:00).
fn instant_of(
    field: &str,
    text: &str,
    problems: &mut Problems,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let text = text.trim();
    if text.is_empty() {
        problems.push((field.to_string(), a().required.to_string()));
        return None;
    }
    let at = NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%d/%m/%Y")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .ok()
        .and_then(|n| clock::vietnam().from_local_datetime(&n).single());
    if at.is_none() {
        problems.push((field.to_string(), a().bad_datetime.to_string()));
    }
    at
}

fn role_label(t: &Texts, r: Role) -> &'static str {
    match r {
        Role::Admin => t.role_admin,
        Role::FinanceOfficer => t.role_finance_officer,
        Role::UnitAccountant => t.role_unit_accountant,
        Role::Viewer => t.role_viewer,
    }
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), role_label(t(), *r).to_string()))
        .collect()
}

const KINDS: [UnitKind; 7] = [
    UnitKind::StateAgency,
    UnitKind::PublicServiceUnit,
    UnitKind::School,
    UnitKind::PartyAgency,
    UnitKind::SocioPoliticalOrganisation,
    UnitKind::ArmedForcesUnit,
    UnitKind::Other,
];

fn kind_options() -> Vec<(String, String)> {
    KINDS
        .iter()
        .map(|k| (k.as_str().to_string(), k.label_vi().to_string()))
        .collect()
}

fn status_label(s: CampaignStatus) -> &'static str {
    match s {
        CampaignStatus::Draft => a().status_draft,
        CampaignStatus::Open => a().status_open,
        CampaignStatus::Closed => a().status_closed,
    }
}

fn status_options() -> Vec<(String, String)> {
    [
        CampaignStatus::Draft,
        CampaignStatus::Open,
        CampaignStatus::Closed,
    ]
    .iter()
    .map(|s| (s.as_str().to_string(), status_label(*s).to_string()))
    .collect()
}

fn parse_status(s: &str) -> Option<CampaignStatus> {
    serde_json::from_value(Json::String(s.to_string())).ok()
}

/// Page numbers and links of a list.
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub found: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `base` ends with `?` or `&`: the page number is appended.
fn pager(base: &str, page: u64, total: u64) -> Pager {
    let pages = total.div_ceil(PER_PAGE).max(1);
    Pager {
        page,
        pages,
        found: a().found.replace("{n}", &vn_number(total as f64)),
        prev: (page > 1).then(|| format!("{base}page={}", page - 1)),
        next: (page < pages).then(|| format!("{base}page={}", page + 1)),
    }
}

fn page_query(page: Option<u64>) -> (u64, PageQuery) {
    let page = page.unwrap_or(1).clamp(1, 1_000_000);
    (
        page,
        PageQuery {
            page: Some(page),
            per_page: Some(PER_PAGE),
        },
    )
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn layout(u: &WebUser, saved: bool) -> Layout {
    let mut l = layout_for(u, None);
    if saved {
        l.flash = Some(a().saved);
    }
    l
}

// ---------------------------------------------------------------- index

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
}

/// `GET /admin`: the admin's home.
pub async fn index(u: WebUser) -> WebResult {
    html(&IndexPage {
        l: layout(&u, false),
        a: a(),
        section: "",
    })
}

/// A side action below a form (a button in its own form).
pub struct Extra {
    pub action: String,
    pub label: &'static str,
    pub note: &'static str,
    pub id: &'static str,
}

#[derive(Template)]
#[template(path = "admin/form.html")]
struct FormPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    title: String,
    intro: Option<String>,
    action: String,
    fields: Vec<Field>,
    summary: Vec<(String, String)>,
    submit: &'static str,
    back: String,
    extra: Vec<Extra>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    page: Option<u64>,
    saved: Option<String>,
}

// ---------------------------------------------------------------- accounts

struct UserRow {
    id: i64,
    username: String,
    full_name: String,
    role: &'static str,
    units: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    rows: Vec<UserRow>,
    pager: Pager,
}

async fn codes_by_id(state: &AppState, ids: &[i64]) -> WebResult<BTreeMap<i64, String>> {
    Ok(units::by_ids(&state.db, ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect())
}

fn codes_text(codes: &BTreeMap<i64, String>, ids: &[i64]) -> String {
    ids.iter()
        .map(|id| codes.get(id).cloned().unwrap_or_else(|| format!("#{id}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /admin/users`.
pub async fn user_list(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let (page, pq) = page_query(q.page);
    let list = users::list(&state, &pq).await?;
    let mut ids: Vec<i64> = list.items.iter().flat_map(|v| v.unit_ids.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let codes = codes_by_id(&state, &ids).await?;
    let rows = list
        .items
        .iter()
        .map(|v| UserRow {
            id: v.id,
            username: v.username.clone(),
            full_name: v.full_name.clone(),
            role: role_label(t(), v.role),
            units: codes_text(&codes, &v.unit_ids),
            active: v.active,
        })
        .collect();
    html(&UsersPage {
        l: layout(&u, q.saved.is_some()),
        a: a(),
        section: "users",
        rows,
        pager: pager("/admin/users?", page, list.total),
    })
}

fn user_fields(new: bool) -> Vec<Field> {
    let a = a();
    let mut f = Vec::new();
    if new {
        f.push(
            Field::new("username", a.f_username, "text")
                .req()
                .max(64)
                .hint(a.hint_username),
        );
    }
    f.push(
        Field::new("full_name", a.f_full_name, "text")
            .req()
            .max(255),
    );
    f.push(Field::new("email", a.f_email, "email").max(254));
    f.push(Field::new("phone", a.f_phone, "tel").max(20));
    f.push(
        Field::new("role", a.f_role, "select")
            .req()
            .opts(role_options()),
    );
    f.push(Field::new("unit_codes", a.f_unit_codes, "text").hint(a.hint_unit_codes));
    f.push(
        Field::new("node_code", a.f_node_binding, "text")
            .max(5)
            .hint(a.hint_node_binding),
    );
    if new {
        f.push(
            Field::new("password", a.f_password, "password")
                .max(128)
                .hint(a.hint_password),
        );
    } else {
        f.push(Field::new("active", a.f_user_active, "checkbox").hint(a.hint_user_active));
    }
    f
}

fn user_rename(path: &str) -> String {
    match path {
        "unit_ids" => "unit_codes".into(),
        p => p.into(),
    }
}

fn user_form(
    u: &WebUser,
    title: &'static str,
    action: String,
    fields: Vec<Field>,
    summary: Vec<(String, String)>,
    submit: &'static str,
    extra: Vec<Extra>,
) -> WebResult {
    html(&FormPage {
        l: layout(u, false),
        a: a(),
        section: "users",
        title: title.to_string(),
        intro: None,
        action,
        fields,
        summary,
        submit,
        back: "/admin/users".into(),
        extra,
    })
}

/// `GET /admin/users/new`.
pub async fn new_user(u: WebUser) -> WebResult {
    let a = a();
    user_form(
        &u,
        a.user_new,
        "/admin/users/new".into(),
        user_fields(true),
        vec![],
        a.user_create_button,
        vec![],
    )
}

#[derive(Template)]
#[template(path = "admin/password_shown.html")]
struct PasswordShown {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    title: &'static str,
    username: String,
    password: String,
}

/// `POST /admin/users/new`: the API's account creation; a password left empty is generated
/// and shown once.
pub async fn create_user(
    State(state): State<AppState>,
    u: WebUser,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let role = Role::parse(get("role"));
    if role.is_none() {
        problems.push(("role".into(), a.choose_role.into()));
    }
    let unit_ids = unit_ids_of(&state, "unit_ids", get("unit_codes"), &mut problems).await?;
    let generated = get("password").is_empty();
    let password = if generated {
        password::generate()
    } else {
        get("password").to_string()
    };
    let input = NewUser {
        username: get("username").trim().to_lowercase(),
        full_name: get("full_name").trim().to_string(),
        email: opt(get("email")),
        phone: opt(get("phone")),
        role: role.unwrap_or(Role::Viewer),
        unit_ids,
        node_code: opt(get("node_code")),
        password: password.clone(),
    };
    if let Err(e) = input.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match users::create(&state, &u.actor, input).await {
            Ok(view) if generated => {
                return html(&PasswordShown {
                    l: layout(&u, false),
                    a,
                    section: "users",
                    title: a.password_created_title,
                    username: view.username,
                    password,
                });
            }
            Ok(_) => return Ok(redirect("/admin/users?saved=1")),
            Err(e) => {
                let conflict = e.status() == StatusCode::CONFLICT;
                let (p, d) = shown(e)?;
                if conflict {
                    problems.push(("username".into(), d.clone()));
                }
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = user_fields(true);
    fill(&mut fields, &posted);
    if let Some(f) = fields.iter_mut().find(|f| f.key == "password") {
        f.value.clear();
    }
    let summary = place(&mut fields, problems, detail, &user_rename);
    Ok(unprocessable(user_form(
        &u,
        a.user_new,
        "/admin/users/new".into(),
        fields,
        summary,
        a.user_create_button,
        vec![],
    )?))
}

fn reset_extra(id: i64) -> Vec<Extra> {
    let a = a();
    vec![Extra {
        action: format!("/admin/users/{id}/password"),
        label: a.reset_password,
        note: a.reset_note,
        id: "reset-password",
    }]
}

/// `GET /admin/users/{user_id}`.
pub async fn edit_user(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
) -> WebResult {
    let a = a();
    let v = users::get(&state.db, id).await?;
    let codes = codes_by_id(&state, &v.unit_ids).await?;
    let mut posted = BTreeMap::new();
    posted.insert("full_name".to_string(), v.full_name.clone());
    posted.insert("email".to_string(), v.email.clone().unwrap_or_default());
    posted.insert("phone".to_string(), v.phone.clone().unwrap_or_default());
    posted.insert("role".to_string(), v.role.as_str().to_string());
    posted.insert("unit_codes".to_string(), codes_text(&codes, &v.unit_ids));
    posted.insert(
        "node_code".to_string(),
        v.node_code.clone().unwrap_or_default(),
    );
    if v.active {
        posted.insert("active".to_string(), "true".to_string());
    }
    let mut fields = user_fields(false);
    fill(&mut fields, &posted);
    html(&FormPage {
        l: layout(&u, false),
        a,
        section: "users",
        title: format!("{} — {}", a.user_edit, v.username),
        intro: None,
        action: format!("/admin/users/{id}"),
        fields,
        summary: vec![],
        submit: t().save,
        back: "/admin/users".into(),
        extra: reset_extra(id),
    })
}

/// `POST /admin/users/{user_id}`: the API's account change (role, units, active…).
pub async fn update_user(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let current = users::get(&state.db, id).await?;
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let role = Role::parse(get("role"));
    if role.is_none() {
        problems.push(("role".into(), a.choose_role.into()));
    }
    let unit_ids = unit_ids_of(&state, "unit_ids", get("unit_codes"), &mut problems).await?;
    let patch = UserPatch {
        full_name: Some(get("full_name").trim().to_string()),
        email: Some(opt(get("email"))),
        phone: Some(opt(get("phone"))),
        role,
        unit_ids: Some(unit_ids),
        node_code: Some(opt(get("node_code"))),
        active: Some(get("active") == "true"),
    };
    if let Err(e) = patch.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match users::update(&state, &u.actor, id, patch).await {
            Ok(_) => return Ok(redirect("/admin/users?saved=1")),
            Err(e) => {
                let (p, d) = shown(e)?;
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = user_fields(false);
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &user_rename);
    Ok(unprocessable(html(&FormPage {
        l: layout(&u, false),
        a,
        section: "users",
        title: format!("{} — {}", a.user_edit, current.username),
        intro: None,
        action: format!("/admin/users/{id}"),
        fields,
        summary,
        submit: t().save,
        back: "/admin/users".into(),
        extra: reset_extra(id),
    })?))
}

/// `POST /admin/users/{user_id}/password`: the API's reset with a generated password, shown
/// on this answer only.
pub async fn reset_password(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
) -> WebResult {
    let a = a();
    let v = users::get(&state.db, id).await?;
    let new_password = password::generate();
    users::reset_password(
        &state,
        &u.actor,
        id,
        &PasswordReset {
            new_password: new_password.clone(),
        },
    )
    .await?;
    html(&PasswordShown {
        l: layout(&u, false),
        a,
        section: "users",
        title: a.password_reset_title,
        username: v.username,
        password: new_password,
    })
}

// ---------------------------------------------------------------- the administrative tree

#[derive(Deserialize, Default)]
pub struct TreeQuery {
    #[serde(default)]
    q: String,
    parent: Option<i64>,
    page: Option<u64>,
    saved: Option<String>,
}

struct NodeRow {
    id: i64,
    code: String,
    name: String,
    level: &'static str,
    province: bool,
}

#[derive(Template)]
#[template(path = "admin/tree.html")]
struct TreePage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    title: String,
    /// The code of the province whose wards are listed.
    province: Option<String>,
    filters: Vec<Field>,
    rows: Vec<NodeRow>,
    pager: Pager,
}

fn level_label(l: Level) -> &'static str {
    match l {
        Level::Province => a().level_province,
        Level::Ward => a().level_ward,
    }
}

/// `GET /admin/tree`: the provinces, or with `parent` one province's communes and wards;
/// searched by code or name (diacritics optional); paginated.
pub async fn tree_list(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<TreeQuery>,
) -> WebResult {
    let a = a();
    let (page, pq) = page_query(q.page);
    let parent = match q.parent {
        Some(id) => Some(
            tree::find(&state.db, id)
                .await?
                .ok_or_else(tree::not_found)?,
        ),
        None => None,
    };
    let query = opt(&q.q).map(|s| s.chars().take(100).collect());
    let filter = NodeFilter {
        parent: parent.as_ref().map(|p| p.id),
        // The provinces by default; a search looks at every level.
        level: (parent.is_none() && query.is_none()).then_some(Level::Province),
        q: query,
    };
    let list = tree::list(&state.db, &u.actor.scope, &filter, &pq).await?;
    let rows = list
        .items
        .iter()
        .map(|n| NodeRow {
            id: n.id,
            code: n.code.clone(),
            name: n.name.clone(),
            level: level_label(n.level),
            province: n.level == Level::Province,
        })
        .collect();
    let filters = vec![
        Field::new("q", t().search, "search")
            .val(q.q.clone())
            .max(100)
            .hint(t().search_hint),
    ];
    let base = format!(
        "/admin/tree?q={}&{}",
        enc(&q.q),
        parent
            .as_ref()
            .map(|p| format!("parent={}&", p.id))
            .unwrap_or_default()
    );
    html(&TreePage {
        l: layout(&u, q.saved.is_some()),
        a,
        section: "tree",
        title: match &parent {
            Some(p) => format!("{} — {} {}", a.tree_title, p.code, p.name),
            None => a.tree_title.to_string(),
        },
        province: parent.map(|p| p.code),
        filters,
        rows,
        pager: pager(&base, page, list.total),
    })
}

fn level_options() -> Vec<(String, String)> {
    [Level::Province, Level::Ward]
        .iter()
        .map(|l| (l.as_str().to_string(), level_label(*l).to_string()))
        .collect()
}

fn node_fields(new: bool) -> Vec<Field> {
    let a = a();
    let mut f = Vec::new();
    if new {
        f.push(
            Field::new("level", a.f_level, "select")
                .req()
                .opts(level_options()),
        );
    }
    f.push(
        Field::new("code", a.f_node_code, "text")
            .req()
            .max(5)
            .hint(a.hint_node_code),
    );
    f.push(Field::new("name", a.f_node_name, "text").req().max(255));
    if new {
        f.push(
            Field::new("parent_code", a.f_parent_node, "text")
                .max(2)
                .hint(a.hint_parent_node),
        );
    }
    f
}

fn node_form_page(
    u: &WebUser,
    title: String,
    action: String,
    fields: Vec<Field>,
    summary: Vec<(String, String)>,
    submit: &'static str,
) -> WebResult {
    html(&FormPage {
        l: layout(u, false),
        a: a(),
        section: "tree",
        title,
        intro: None,
        action,
        fields,
        summary,
        submit,
        back: "/admin/tree".into(),
        extra: vec![],
    })
}

#[derive(Deserialize, Default)]
pub struct NewNodeQuery {
    parent_code: Option<String>,
}

/// `GET /admin/tree/new`: a province, or (with `parent_code`) a ward of that province.
pub async fn new_node(u: WebUser, Query(q): Query<NewNodeQuery>) -> WebResult {
    let a = a();
    let mut posted = BTreeMap::new();
    if let Some(p) = q.parent_code.as_deref().and_then(opt) {
        posted.insert("level".to_string(), Level::Ward.as_str().to_string());
        posted.insert("parent_code".to_string(), p.chars().take(2).collect());
    }
    let mut fields = node_fields(true);
    fill(&mut fields, &posted);
    node_form_page(
        &u,
        a.node_new.into(),
        "/admin/tree/new".into(),
        fields,
        vec![],
        a.node_create_button,
    )
}

/// `POST /admin/tree/new`: the API's node creation (code shape, parent, unique code).
pub async fn create_node(
    State(state): State<AppState>,
    u: WebUser,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let level = Level::parse(get("level"));
    if level.is_none() {
        problems.push(("level".into(), a.required.into()));
    }
    let input = NewNode {
        code: get("code").trim().to_string(),
        name: get("name").trim().to_string(),
        level: level.unwrap_or(Level::Ward),
        parent_code: opt(get("parent_code")),
    };
    if let Err(e) = input.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match tree::create(&state, &u.actor, input).await {
            Ok(n) => {
                let back = n
                    .parent_id
                    .map(|p| format!("/admin/tree?parent={p}&saved=1"))
                    .unwrap_or_else(|| "/admin/tree?saved=1".into());
                return Ok(redirect(&back));
            }
            Err(e) => {
                let conflict = e.status() == StatusCode::CONFLICT;
                let (p, d) = shown(e)?;
                if conflict {
                    problems.push(("code".into(), d.clone()));
                }
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = node_fields(true);
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &same);
    Ok(unprocessable(node_form_page(
        &u,
        a.node_new.into(),
        "/admin/tree/new".into(),
        fields,
        summary,
        a.node_create_button,
    )?))
}

/// `GET /admin/tree/{node_id}`.
pub async fn edit_node(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
) -> WebResult {
    let a = a();
    let n = tree::get(&state.db, &u.actor.scope, id).await?;
    let mut posted = BTreeMap::new();
    posted.insert("code".to_string(), n.code.clone());
    posted.insert("name".to_string(), n.name.clone());
    let mut fields = node_fields(false);
    fill(&mut fields, &posted);
    node_form_page(
        &u,
        format!("{} — {} ({})", a.node_edit, n.name, level_label(n.level)),
        format!("/admin/tree/{id}"),
        fields,
        vec![],
        t().save,
    )
}

/// `POST /admin/tree/{node_id}`: the API's node change (code, name).
pub async fn update_node(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let current = tree::get(&state.db, &u.actor.scope, id).await?;
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let patch = NodePatch {
        code: Some(get("code").trim().to_string()),
        name: Some(get("name").trim().to_string()),
    };
    if let Err(e) = patch.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match tree::update(&state, &u.actor, id, patch).await {
            Ok(n) => {
                let back = n
                    .parent_id
                    .map(|p| format!("/admin/tree?parent={p}&saved=1"))
                    .unwrap_or_else(|| "/admin/tree?saved=1".into());
                return Ok(redirect(&back));
            }
            Err(e) => {
                let conflict = e.status() == StatusCode::CONFLICT;
                let (p, d) = shown(e)?;
                if conflict {
                    problems.push(("code".into(), d.clone()));
                }
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = node_fields(false);
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &same);
    Ok(unprocessable(node_form_page(
        &u,
        format!(
            "{} — {} ({})",
            a.node_edit,
            current.name,
            level_label(current.level)
        ),
        format!("/admin/tree/{id}"),
        fields,
        summary,
        t().save,
    )?))
}

// ---------------------------------------------------------------- units

#[derive(Deserialize, Default)]
pub struct UnitQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    active: String,
    page: Option<u64>,
    saved: Option<String>,
}

struct UnitRow {
    id: i64,
    code: String,
    name: String,
    kind: &'static str,
    parent: String,
    ward: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    filters: Vec<Field>,
    rows: Vec<UnitRow>,
    pager: Pager,
}

/// `GET /admin/units`: search (diacritics optional), kind, active; paginated.
pub async fn unit_list(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<UnitQuery>,
) -> WebResult {
    let a = a();
    let t = t();
    let (page, pq) = page_query(q.page);
    let filter = UnitFilter {
        kind: serde_json::from_value(Json::String(q.kind.clone())).ok(),
        q: opt(&q.q).map(|s| s.chars().take(100).collect()),
        active: match q.active.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    };
    let list = units::list(&state, &u.actor, &filter, &pq).await?;
    let parents: Vec<i64> = list.items.iter().filter_map(|v| v.parent_id).collect();
    let codes = codes_by_id(&state, &parents).await?;
    let rows = list
        .items
        .iter()
        .map(|v| UnitRow {
            id: v.id,
            code: v.code.clone(),
            name: v.name.clone(),
            kind: v.kind.label_vi(),
            parent: v
                .parent_id
                .map(|p| codes_text(&codes, &[p]))
                .unwrap_or_default(),
            ward: v
                .ward
                .as_ref()
                .map(|w| format!("{} — {}", w.code, w.name))
                .unwrap_or_default(),
            active: v.active,
        })
        .collect();
    let filters = vec![
        Field::new("q", t.search, "search")
            .val(q.q.clone())
            .max(100)
            .hint(t.search_hint),
        Field::new("kind", a.f_kind, "select")
            .val(q.kind.clone())
            .opts(kind_options()),
        Field::new("active", a.state, "select")
            .val(q.active.clone())
            .opts(vec![
                ("true".into(), a.active.into()),
                ("false".into(), a.inactive.into()),
            ]),
    ];
    let base = format!(
        "/admin/units?q={}&kind={}&active={}&",
        enc(&q.q),
        enc(&q.kind),
        enc(&q.active)
    );
    html(&UnitsPage {
        l: layout(&u, q.saved.is_some()),
        a,
        section: "units",
        filters,
        rows,
        pager: pager(&base, page, list.total),
    })
}

fn unit_fields(new: bool) -> Vec<Field> {
    let a = a();
    let mut f = vec![
        Field::new("code", a.f_code, "text")
            .req()
            .max(7)
            .hint(a.hint_code),
        Field::new("name", a.f_unit_name, "text").req().max(255),
        Field::new("kind", a.f_kind, "select")
            .req()
            .opts(kind_options()),
        Field::new("parent_code", a.f_parent, "text")
            .max(7)
            .hint(a.hint_parent),
        Field::new("ward_code", a.f_ward_code, "text")
            .max(5)
            .hint(a.hint_ward_code),
        Field::new("registration_code", a.f_registration_code, "text")
            .max(15)
            .hint(a.hint_registration_code),
        Field::new("address", a.f_address, "text").max(500),
        Field::new("accountant_name", a.f_accountant_name, "text").max(255),
        Field::new("accountant_phone", a.f_accountant_phone, "tel").max(20),
        Field::new("accountant_email", a.f_accountant_email, "email").max(254),
    ];
    if !new {
        f.push(Field::new("active", a.f_unit_active, "checkbox").hint(a.hint_unit_active));
    }
    f
}

fn unit_rename(path: &str) -> String {
    match path {
        "parent_id" => "parent_code".into(),
        p => p.into(),
    }
}

/// Reads the unit form: the kind and the superior unit's id, with their problems.
async fn read_unit_form(
    state: &AppState,
    posted: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> WebResult<(Option<UnitKind>, Option<i64>)> {
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let kind: Option<UnitKind> = serde_json::from_value(Json::String(get("kind").into())).ok();
    if kind.is_none() {
        problems.push(("kind".into(), a().choose_kind.into()));
    }
    let parent = match opt(get("parent_code")) {
        Some(code) => unit_ids_of(state, "parent_id", &code, problems)
            .await?
            .first()
            .copied(),
        None => None,
    };
    Ok((kind, parent))
}

fn unit_form_page(
    u: &WebUser,
    title: String,
    action: String,
    fields: Vec<Field>,
    summary: Vec<(String, String)>,
    submit: &'static str,
) -> WebResult {
    html(&FormPage {
        l: layout(u, false),
        a: a(),
        section: "units",
        title,
        intro: None,
        action,
        fields,
        summary,
        submit,
        back: "/admin/units".into(),
        extra: vec![],
    })
}

/// `GET /admin/units/new`.
pub async fn new_unit(u: WebUser) -> WebResult {
    let a = a();
    unit_form_page(
        &u,
        a.unit_new.into(),
        "/admin/units/new".into(),
        unit_fields(true),
        vec![],
        a.unit_create_button,
    )
}

/// `POST /admin/units/new`: the API's unit creation (budget code checked, unique).
pub async fn create_unit(
    State(state): State<AppState>,
    u: WebUser,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let (kind, parent_id) = read_unit_form(&state, &posted, &mut problems).await?;
    let input = NewUnit {
        code: get("code").trim().to_string(),
        registration_code: opt(get("registration_code")),
        name: get("name").trim().to_string(),
        kind: kind.unwrap_or(UnitKind::Other),
        parent_id,
        address: opt(get("address")),
        accountant_name: opt(get("accountant_name")),
        accountant_phone: opt(get("accountant_phone")),
        accountant_email: opt(get("accountant_email")),
        ward_code: opt(get("ward_code")),
    };
    if let Err(e) = input.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match units::create(&state, &u.actor, input).await {
            Ok(_) => return Ok(redirect("/admin/units?saved=1")),
            Err(e) => {
                let conflict = e.status() == StatusCode::CONFLICT;
                let (p, d) = shown(e)?;
                if conflict {
                    problems.push(("code".into(), d.clone()));
                }
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = unit_fields(true);
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &unit_rename);
    Ok(unprocessable(unit_form_page(
        &u,
        a.unit_new.into(),
        "/admin/units/new".into(),
        fields,
        summary,
        a.unit_create_button,
    )?))
}

/// `GET /admin/units/{unit_id}`.
pub async fn edit_unit(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
) -> WebResult {
    let a = a();
    let m = units::get(&state.db, id).await?;
    let parent = match m.parent_id {
        Some(p) => units::by_ids(&state.db, &[p])
            .await?
            .into_iter()
            .next()
            .map(|p| p.code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let ward = match m.ward_id {
        Some(w) => crate::tree::find(&state.db, w)
            .await?
            .map(|n| n.code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut posted = BTreeMap::new();
    for (k, v) in [
        ("code", m.code.clone()),
        ("name", m.name.clone()),
        ("kind", m.kind.clone()),
        ("parent_code", parent),
        ("ward_code", ward),
        (
            "registration_code",
            m.registration_code.clone().unwrap_or_default(),
        ),
        ("address", m.address.clone().unwrap_or_default()),
        (
            "accountant_name",
            m.accountant_name.clone().unwrap_or_default(),
        ),
        (
            "accountant_phone",
            m.accountant_phone.clone().unwrap_or_default(),
        ),
        (
            "accountant_email",
            m.accountant_email.clone().unwrap_or_default(),
        ),
    ] {
        posted.insert(k.to_string(), v);
    }
    if m.active {
        posted.insert("active".into(), "true".into());
    }
    let mut fields = unit_fields(false);
    fill(&mut fields, &posted);
    unit_form_page(
        &u,
        format!("{} — {}", a.unit_edit, m.name),
        format!("/admin/units/{id}"),
        fields,
        vec![],
        t().save,
    )
}

/// `POST /admin/units/{unit_id}`: the API's unit change (deactivation included).
pub async fn update_unit(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let current = units::get(&state.db, id).await?;
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let mut problems = Problems::new();
    let (kind, parent_id) = read_unit_form(&state, &posted, &mut problems).await?;
    let patch = UnitPatch {
        code: Some(get("code").trim().to_string()),
        registration_code: Some(opt(get("registration_code"))),
        name: Some(get("name").trim().to_string()),
        kind,
        parent_id: Some(parent_id),
        address: Some(opt(get("address"))),
        accountant_name: Some(opt(get("accountant_name"))),
        accountant_phone: Some(opt(get("accountant_phone"))),
        accountant_email: Some(opt(get("accountant_email"))),
        active: Some(get("active") == "true"),
        ward_code: Some(opt(get("ward_code"))),
    };
    if let Err(e) = patch.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match units::update(&state, &u.actor, id, patch).await {
            Ok(_) => return Ok(redirect("/admin/units?saved=1")),
            Err(e) => {
                let conflict = e.status() == StatusCode::CONFLICT;
                let (p, d) = shown(e)?;
                if conflict {
                    problems.push(("code".into(), d.clone()));
                }
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = unit_fields(false);
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &unit_rename);
    Ok(unprocessable(unit_form_page(
        &u,
        format!("{} — {}", a.unit_edit, current.name),
        format!("/admin/units/{id}"),
        fields,
        summary,
        t().save,
    )?))
}

// ---------------------------------------------------------------- campaigns

struct CampaignRow {
    id: i64,
    name: String,
    cutoff: String,
    registration: String,
    submission: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "admin/campaigns.html")]
struct CampaignsPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    rows: Vec<CampaignRow>,
    pager: Pager,
}

/// `GET /admin/campaigns`.
pub async fn campaign_list(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let (page, pq) = page_query(q.page);
    let list = campaigns::list(&state, &pq).await?;
    let rows = list
        .items
        .iter()
        .map(|c| CampaignRow {
            id: c.id,
            name: c.name.clone(),
            cutoff: vn_time(c.cutoff_at),
            registration: vn_date(c.registration_deadline),
            submission: vn_date(c.submission_deadline),
            status: status_label(c.status),
        })
        .collect();
    html(&CampaignsPage {
        l: layout(&u, q.saved.is_some()),
        a: a(),
        section: "campaigns",
        rows,
        pager: pager("/admin/campaigns?", page, list.total),
    })
}

fn campaign_fields() -> Vec<Field> {
    let a = a();
    vec![
        Field::new("name", a.f_campaign_name, "text").req().max(255),
        Field::new("authority_name", a.f_authority, "text")
            .req()
            .max(255),
        Field::new("place_name", a.f_place, "text").req().max(100),
        Field {
            placeholder: "dd/mm/yyyy hh:mm",
            ..Field::new("cutoff_at", a.f_cutoff, "text")
                .req()
                .max(16)
                .hint(a.hint_cutoff)
        },
        Field::date("registration_deadline", a.f_registration_deadline).req(),
        Field::date("submission_deadline", a.f_submission_deadline)
            .req()
            .hint(a.hint_deadlines),
        Field::new("status", a.f_status, "select")
            .req()
            .opts(status_options()),
    ]
}

fn campaign_rename(path: &str) -> String {
    match path {
        // The struct-level rule of `NewCampaign`: the deadlines' order.
        "__all__" | "" => "submission_deadline".into(),
        p => p.into(),
    }
}

/// What the campaign form says, read with its problems.
struct CampaignForm {
    name: String,
    authority_name: String,
    place_name: String,
    cutoff_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    registration_deadline: Option<NaiveDate>,
    submission_deadline: Option<NaiveDate>,
    status: Option<CampaignStatus>,
}

fn read_campaign(posted: &BTreeMap<String, String>, problems: &mut Problems) -> CampaignForm {
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let status = parse_status(get("status"));
    if status.is_none() {
        problems.push(("status".into(), a().required.into()));
    }
    CampaignForm {
        name: get("name").trim().to_string(),
        authority_name: get("authority_name").trim().to_string(),
        place_name: get("place_name").trim().to_string(),
        cutoff_at: instant_of("cutoff_at", get("cutoff_at"), problems),
        registration_deadline: required_date(
            "registration_deadline",
            get("registration_deadline"),
            problems,
        ),
        submission_deadline: required_date(
            "submission_deadline",
            get("submission_deadline"),
            problems,
        ),
        status,
    }
}

fn campaign_page(
    u: &WebUser,
    title: String,
    action: String,
    fields: Vec<Field>,
    summary: Vec<(String, String)>,
    submit: &'static str,
) -> WebResult {
    html(&FormPage {
        l: layout(u, false),
        a: a(),
        section: "campaigns",
        title,
        intro: None,
        action,
        fields,
        summary,
        submit,
        back: "/admin/campaigns".into(),
        extra: vec![],
    })
}

/// `GET /admin/campaigns/new`.
pub async fn new_campaign(u: WebUser) -> WebResult {
    let a = a();
    let mut fields = campaign_fields();
    if let Some(f) = fields.iter_mut().find(|f| f.key == "status") {
        f.value = "open".into();
    }
    campaign_page(
        &u,
        a.campaign_new.into(),
        "/admin/campaigns/new".into(),
        fields,
        vec![],
        a.campaign_create_button,
    )
}

/// `POST /admin/campaigns/new`: the API's campaign creation.
pub async fn create_campaign(
    State(state): State<AppState>,
    u: WebUser,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let posted = form_map(&body);
    let mut problems = Problems::new();
    let f = read_campaign(&posted, &mut problems);
    let mut detail = None;
    // A date that could not be read is already a problem; a stand-in keeps the other
    // fields' checks running so that every problem shows at once.
    let input = NewCampaign {
        name: f.name,
        authority_name: f.authority_name,
        place_name: f.place_name,
        cutoff_at: f.cutoff_at.unwrap_or_default(),
        registration_deadline: f.registration_deadline.unwrap_or_default(),
        submission_deadline: f
            .submission_deadline
            .or(f.registration_deadline)
            .unwrap_or_default(),
        status: f.status,
    };
    if let Err(e) = input.validate() {
        problems.extend(invalid(&e));
    }
    if problems.is_empty() {
        match campaigns::create(&state, &u.actor, input).await {
            Ok(_) => return Ok(redirect("/admin/campaigns?saved=1")),
            Err(e) => {
                let (p, d) = shown(e)?;
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = campaign_fields();
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &campaign_rename);
    Ok(unprocessable(campaign_page(
        &u,
        a.campaign_new.into(),
        "/admin/campaigns/new".into(),
        fields,
        summary,
        a.campaign_create_button,
    )?))
}

/// `GET /admin/campaigns/{campaign_id}`.
pub async fn edit_campaign(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
) -> WebResult {
    let a = a();
    let c = campaigns::get(&state.db, id).await?;
    let mut posted = BTreeMap::new();
    for (k, v) in [
        ("name", c.name.clone()),
        ("authority_name", c.authority_name.clone()),
        ("place_name", c.place_name.clone()),
        (
            "cutoff_at",
            c.cutoff_at
                .with_timezone(&clock::vietnam())
                .format("%d/%m/%Y %H:%M")
                .to_string(),
        ),
        ("registration_deadline", vn_date(c.registration_deadline)),
        ("submission_deadline", vn_date(c.submission_deadline)),
        ("status", c.status.clone()),
    ] {
        posted.insert(k.to_string(), v);
    }
    let mut fields = campaign_fields();
    fill(&mut fields, &posted);
    campaign_page(
        &u,
        format!("{} — {}", a.campaign_edit, c.name),
        format!("/admin/campaigns/{id}"),
        fields,
        vec![],
        t().save,
    )
}

/// `POST /admin/campaigns/{campaign_id}`: the API's campaign change (deadlines in order).
pub async fn update_campaign(
    State(state): State<AppState>,
    u: WebUser,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let a = a();
    let current = campaigns::get(&state.db, id).await?;
    let posted = form_map(&body);
    let mut problems = Problems::new();
    let f = read_campaign(&posted, &mut problems);
    let patch = CampaignPatch {
        name: Some(f.name),
        authority_name: Some(f.authority_name),
        place_name: Some(f.place_name),
        cutoff_at: f.cutoff_at,
        registration_deadline: f.registration_deadline,
        submission_deadline: f.submission_deadline,
        status: f.status,
    };
    if let Err(e) = patch.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match campaigns::update(&state, &u.actor, id, patch).await {
            Ok(_) => return Ok(redirect("/admin/campaigns?saved=1")),
            Err(e) => {
                let (p, d) = shown(e)?;
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let mut fields = campaign_fields();
    fill(&mut fields, &posted);
    let summary = place(&mut fields, problems, detail, &campaign_rename);
    Ok(unprocessable(campaign_page(
        &u,
        format!("{} — {}", a.campaign_edit, current.name),
        format!("/admin/campaigns/{id}"),
        fields,
        summary,
        t().save,
    )?))
}

// ---------------------------------------------------------------- registrations

struct MemberRow {
    i: usize,
    n: usize,
    label: String,
    name: String,
    position: String,
    team_role: String,
}

#[derive(Template)]
#[template(path = "admin/registration.html")]
struct RegistrationPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    unit_code: String,
    unit_name: String,
    campaign: String,
    registered_at: Option<String>,
    action: String,
    fields: Vec<Field>,
    members: Vec<MemberRow>,
    members_error: Option<String>,
    types: Vec<(String, String, bool)>,
    types_error: Option<String>,
    summary: Vec<(String, String)>,
}

/// Rows of the team table: the members given, then empty rows (at least 3 rows, 2 empty).
fn member_rows(members: &[TeamMember], blank: usize) -> Vec<MemberRow> {
    let a = a();
    let total = (members.len() + blank).clamp(3, 50);
    (0..total)
        .map(|i| {
            let m = members.get(i);
            MemberRow {
                i,
                n: i + 1,
                label: a.member_n.replace("{n}", &(i + 1).to_string()),
                name: m.map(|m| m.name.clone()).unwrap_or_default(),
                position: m.map(|m| m.position.clone()).unwrap_or_default(),
                team_role: m.map(|m| m.team_role.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

fn type_options(state: &AppState, chosen: &[String]) -> Vec<(String, String, bool)> {
    let mut forms: Vec<_> = state.forms.forms().collect();
    forms.sort_by(|x, y| x.asset_type.code.cmp(&y.asset_type.code));
    forms
        .into_iter()
        .map(|f| {
            (
                f.asset_type.code.clone(),
                f.asset_type.name.get(lang()).to_string(),
                chosen.contains(&f.asset_type.code),
            )
        })
        .collect()
}

fn registration_fields() -> Vec<Field> {
    let a = a();
    vec![
        Field::new("team_decision_no", a.f_decision_no, "text")
            .req()
            .max(50),
        Field::date("team_decision_date", a.f_decision_date),
    ]
}

struct RegistrationView {
    fields: Vec<Field>,
    members: Vec<MemberRow>,
    members_error: Option<String>,
    types: Vec<(String, String, bool)>,
    types_error: Option<String>,
    summary: Vec<(String, String)>,
    saved: bool,
}

async fn registration_view(
    state: &AppState,
    u: &WebUser,
    unit_id: i64,
    v: RegistrationView,
) -> WebResult {
    let c = campaign_or_404(state).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let registered_at = match registrations::get(state, c.id, unit_id).await {
        Ok(r) => Some(vn_time(r.registered_at)),
        Err(e) if e.status() == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    html(&RegistrationPage {
        l: layout(u, v.saved),
        a: a(),
        section: "units",
        unit_code: unit.code,
        unit_name: unit.name,
        campaign: c.name,
        registered_at,
        action: format!("/admin/units/{unit_id}/registration"),
        fields: v.fields,
        members: v.members,
        members_error: v.members_error,
        types: v.types,
        types_error: v.types_error,
        summary: v.summary,
    })
}

/// `GET /admin/units/{unit_id}/registration`: the unit's registration in the current
/// campaign, to create or change on its behalf.
pub async fn registration_page(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    units::get(&state.db, unit_id).await?;
    let existing = match registrations::get(&state, c.id, unit_id).await {
        Ok(r) => Some(r),
        Err(e) if e.status() == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    let mut fields = registration_fields();
    let (members, types) = match &existing {
        Some(r) => {
            fields[0].value = r.team_decision_no.clone();
            fields[1].value = r.team_decision_date.map(vn_date).unwrap_or_default();
            (r.team_members.clone(), r.asset_types.clone())
        }
        None => (vec![], vec![]),
    };
    registration_view(
        &state,
        &u,
        unit_id,
        RegistrationView {
            fields,
            members: member_rows(&members, 2),
            members_error: None,
            types: type_options(&state, &types),
            types_error: None,
            summary: vec![],
            saved: q.saved.is_some(),
        },
    )
    .await
}

/// `POST /admin/units/{unit_id}/registration`: the API's registration, on the unit's behalf.
pub async fn save_registration(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    units::get(&state.db, unit_id).await?;
    let posted = form_map(&body);
    let get = |k: &str| posted.get(k).map(String::as_str).unwrap_or("");
    let types: Vec<String> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v.into_owned())
        .collect();
    // Every row as typed (the rows sent back keep their places), and which row each member is.
    let mut rows = Vec::new();
    let mut members = Vec::new();
    let mut row_of = Vec::new();
    for i in 0..50 {
        let cell = |k: &str| get(&format!("m{i}_{k}")).trim().to_string();
        if !posted.contains_key(&format!("m{i}_name")) {
            break;
        }
        let m = TeamMember {
            name: cell("name"),
            position: cell("position"),
            team_role: cell("role"),
        };
        if !(m.name.is_empty() && m.position.is_empty() && m.team_role.is_empty()) {
            members.push(m.clone());
            row_of.push(i);
        }
        rows.push(m);
    }
    let mut problems = Problems::new();
    let team_decision_date = date_of(
        "team_decision_date",
        get("team_decision_date"),
        &mut problems,
    );
    let input = RegistrationInput {
        team_decision_no: get("team_decision_no").trim().to_string(),
        team_decision_date,
        team_members: members,
        asset_types: types.clone(),
    };
    if let Err(e) = input.validate() {
        problems.extend(invalid(&e));
    }
    let mut detail = None;
    if problems.is_empty() {
        match registrations::put(&state, &u.actor, c.id, unit_id, input).await {
            Ok(_) => {
                return Ok(redirect(&format!(
                    "/admin/units/{unit_id}/registration?saved=1"
                )));
            }
            Err(e) => {
                let (p, d) = shown(e)?;
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    // Team and type problems go to their fieldsets, naming the row.
    let a = a();
    let mut members_error: Vec<String> = Vec::new();
    let mut types_error: Vec<String> = Vec::new();
    let mut rest = Problems::new();
    for (path, message) in problems {
        if let Some(tail) = path.strip_prefix("team_members") {
            let row = tail
                .strip_prefix('[')
                .and_then(|s| s.split(']').next())
                .and_then(|s| s.parse::<usize>().ok())
                .and_then(|i| row_of.get(i).copied());
            let message = message.replace(&format!("«{path}»"), &format!("«{}»", a.f_members));
            members_error.push(match row {
                Some(r) => format!(
                    "{}: {message}",
                    a.member_n.replace("{n}", &(r + 1).to_string())
                ),
                None => message,
            });
        } else if path.starts_with("asset_types") {
            types_error
                .push(message.replace(&format!("«{path}»"), &format!("«{}»", a.f_asset_types)));
        } else {
            rest.push((path, message));
        }
    }
    let mut fields = registration_fields();
    fill(&mut fields, &posted);
    let only_fieldsets = !members_error.is_empty() || !types_error.is_empty();
    let mut summary = place(
        &mut fields,
        rest,
        if only_fieldsets { None } else { detail },
        &same,
    );
    let members_error = (!members_error.is_empty()).then(|| members_error.join("; "));
    let types_error = (!types_error.is_empty()).then(|| types_error.join("; "));
    if let Some(e) = &members_error {
        summary.push(("#f-members".into(), format!("{}: {e}", a.f_members)));
    }
    if let Some(e) = &types_error {
        summary.push(("#f-asset_types".into(), format!("{}: {e}", a.f_asset_types)));
    }
    Ok(unprocessable(
        registration_view(
            &state,
            &u,
            unit_id,
            RegistrationView {
                fields,
                members: member_rows(&rows, 0),
                members_error,
                types: type_options(&state, &types),
                types_error,
                summary,
                saved: false,
            },
        )
        .await?,
    ))
}

// ---------------------------------------------------------------- audit log

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<u64>,
}

struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    object: String,
    /// Where the record's own page is (an asset's history, a unit, an account, a campaign).
    link: Option<String>,
    unit: String,
    changes: Vec<(String, String, String)>,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    l: Layout,
    a: &'static AdminTexts,
    section: &'static str,
    filters: Vec<Field>,
    summary: Vec<(String, String)>,
    rows: Vec<AuditRow>,
    pager: Pager,
}

/// A JSON value as the log shows it.
fn plain(j: Option<&Json>) -> String {
    match j {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Bool(b)) => if *b { t().yes } else { t().no }.to_string(),
        Some(Json::Number(n)) => n.to_string(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Object(o) => o
                    .values()
                    .filter_map(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
                other => plain(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// The keys of a record as the log compares them: an asset's own fields beside the common ones.
fn flat(j: Option<&Json>) -> serde_json::Map<String, Json> {
    let mut out = serde_json::Map::new();
    if let Some(Json::Object(o)) = j {
        for (k, v) in o {
            match (k.as_str(), v) {
                ("fields", Json::Object(own)) => out.extend(own.clone()),
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// What changed between `before` and `after`, by field label, in a readable form.
fn changes_of(state: &AppState, e: &audit::AuditEventView) -> Vec<(String, String, String)> {
    let a = a();
    let before = flat(e.before.as_ref());
    let after = flat(e.after.as_ref());
    let form = after
        .get("asset_type")
        .or_else(|| before.get("asset_type"))
        .and_then(Json::as_str)
        .filter(|_| e.entity == "asset")
        .and_then(|code| state.forms.form_for_type(code))
        .cloned();
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    if let Some(f) = &form {
        keys.sort_by_key(|k| {
            f.fields
                .iter()
                .position(|d| &d.key == *k)
                .unwrap_or(usize::MAX)
        });
    }
    keys.into_iter()
        .filter(|k| {
            !matches!(
                k.as_str(),
                "id" | "created_at" | "updated_at" | "version" | "search"
            )
        })
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let b = before.get(k);
            let n = after.get(k);
            match form.as_ref().and_then(|f| f.field(k)) {
                Some(field) => {
                    let text = |j: Option<&Json>| match j.map(|j| Value::from_json(field, j)) {
                        Some(Ok(Some(v))) => show(field, &v),
                        _ => plain(j),
                    };
                    (field.label.get(lang()).to_string(), text(b), text(n))
                }
                None => (
                    a.field_label(&e.entity, k)
                        .map(str::to_string)
                        .unwrap_or_else(|| k.clone()),
                    plain(b),
                    plain(n),
                ),
            }
        })
        .collect()
}

/// `GET /admin/audit`: the trail through [`audit::list`], filtered like the API.
pub async fn audit_log(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    let a = a();
    let (page, pq) = page_query(q.page);
    let mut problems = Problems::new();
    let unit_id = match opt(&q.unit) {
        Some(code) => unit_ids_of(&state, "unit", &code, &mut problems)
            .await?
            .first()
            .copied(),
        None => None,
    };
    let filter = AuditFilter {
        actor: opt(&q.actor).map(|s| s.chars().take(100).collect()),
        unit_id,
        entity: opt(&q.entity).map(|s| s.chars().take(50).collect()),
        action: opt(&q.action).map(|s| s.chars().take(50).collect()),
        from: date_of("from", &q.from, &mut problems),
        to: date_of("to", &q.to, &mut problems),
    };
    let mut detail = None;
    let mut rows = Vec::new();
    let mut total = 0;
    if problems.is_empty() {
        match audit::list(
            &state.db,
            &filter,
            crate::tree::units_of(crate::entities::audit_event::Column::UnitId, &u.actor.scope),
            &pq,
        )
        .await
        {
            Ok(list) => {
                total = list.total;
                let mut ids: Vec<i64> = list.items.iter().filter_map(|e| e.unit_id).collect();
                ids.sort_unstable();
                ids.dedup();
                let names: BTreeMap<i64, String> = units::by_ids(&state.db, &ids)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, format!("{} — {}", u.code, u.name)))
                    .collect();
                rows = list
                    .items
                    .iter()
                    .map(|e| AuditRow {
                        id: e.id,
                        at: vn_time(e.at),
                        actor: e.actor_name.clone().unwrap_or_default(),
                        action: a.action_label(&e.action).to_string(),
                        object: match e.entity_id {
                            Some(id) => format!("{} #{id}", a.entity_label(&e.entity)),
                            None => a.entity_label(&e.entity).to_string(),
                        },
                        link: e.entity_id.and_then(|id| match e.entity.as_str() {
                            "asset" => Some(format!("/assets/{id}/history")),
                            "unit" if e.action != "delete" => Some(format!("/admin/units/{id}")),
                            "user" => Some(format!("/admin/users/{id}")),
                            "campaign" => Some(format!("/admin/campaigns/{id}")),
                            _ => None,
                        }),
                        unit: e
                            .unit_id
                            .map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
                            .unwrap_or_default(),
                        changes: changes_of(&state, e),
                        detail: e.detail.clone(),
                    })
                    .collect();
            }
            Err(e) => {
                let (p, d) = shown(e)?;
                problems.extend(p);
                detail = Some(d);
            }
        }
    }
    let opts = |list: &[(&'static str, &'static str)]| {
        list.iter()
            .map(|(k, l)| (k.to_string(), l.to_string()))
            .collect::<Vec<_>>()
    };
    let mut filters = vec![
        Field::new("actor", a.f_actor, "text")
            .val(q.actor.clone())
            .max(100),
        Field::new("unit", a.f_unit_code, "text")
            .val(q.unit.clone())
            .max(7),
        Field::new("entity", a.f_entity, "select")
            .val(q.entity.clone())
            .opts(opts(&a.entities)),
        Field::new("action", a.f_action, "select")
            .val(q.action.clone())
            .opts(opts(&a.actions)),
        Field::date("from", a.f_from).val(q.from.clone()),
        Field::date("to", a.f_to).val(q.to.clone()),
    ];
    let summary = if problems.is_empty() && detail.is_none() {
        vec![]
    } else {
        place(&mut filters, problems, detail, &same)
    };
    let base = format!(
        "/admin/audit?actor={}&unit={}&entity={}&action={}&from={}&to={}&",
        enc(&q.actor),
        enc(&q.unit),
        enc(&q.entity),
        enc(&q.action),
        enc(&q.from),
        enc(&q.to)
    );
    let mut res = html(&AuditPage {
        l: layout(&u, false),
        a,
        section: "audit",
        filters,
        rows,
        pager: pager(&base, page, total),
        summary: summary.clone(),
    })?;
    if !summary.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_off_is_typed_in_vietnam_time() {
        let mut problems = Problems::new();
        let at = instant_of("cutoff_at", "01/01/2026 00:00", &mut problems).expect("read");
        assert_eq!(at.to_rfc3339(), "2026-01-01T00:00:00+07:00");
        assert_eq!(
            at.with_timezone(&chrono::Utc).to_rfc3339(),
            "2025-12-31T17:00:00+00:00"
        );
        assert!(instant_of("cutoff_at", "31/02/2026 00:00", &mut problems).is_none());
        assert!(instant_of("cutoff_at", "", &mut problems).is_none());
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["cutoff_at", "cutoff_at"]);
    }

    #[test]
    fn days_are_read_the_vietnamese_way_or_as_iso() {
        let mut problems = Problems::new();
        let want = NaiveDate::from_ymd_opt(2026, 3, 31);
        assert_eq!(date_of("d", "31/03/2026", &mut problems), want);
        assert_eq!(date_of("d", "2026-03-31", &mut problems), want);
        assert_eq!(date_of("d", " ", &mut problems), None);
        assert!(problems.is_empty());
        assert_eq!(date_of("d", "03/31/2026", &mut problems), None);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn unit_codes_are_split_on_commas_semicolons_and_spaces() {
        assert_eq!(
            codes_of(" 1109301, 1109302;1109303\n1109304 "),
            vec!["1109301", "1109302", "1109303", "1109304"]
        );
        assert!(codes_of(" , ").is_empty());
    }

    #[test]
    fn a_domain_problem_lands_beside_its_field_named_by_its_label() {
        let mut fields = vec![
            Field::new("code", "Mã đơn vị", "text"),
            Field::new("parent_code", "Mã cấp trên", "text"),
        ];
        let summary = place(
            &mut fields,
            vec![
                ("code".into(), "«code» không đúng định dạng".into()),
                ("parent_id".into(), "Không có đơn vị cấp trên này".into()),
                ("other".into(), "Một lỗi chung".into()),
            ],
            Some("chi tiết".into()),
            &unit_rename,
        );
        assert_eq!(
            fields[0].error.as_deref(),
            Some("«Mã đơn vị» không đúng định dạng")
        );
        assert_eq!(
            fields[1].error.as_deref(),
            Some("Không có đơn vị cấp trên này")
        );
        assert_eq!(fields[0].described_by(), "err-code");
        assert_eq!(
            summary,
            vec![
                (
                    "#f-code".to_string(),
                    "Mã đơn vị: «Mã đơn vị» không đúng định dạng".to_string()
                ),
                (
                    "#f-parent_code".to_string(),
                    "Mã cấp trên: Không có đơn vị cấp trên này".to_string()
                ),
                (String::new(), "Một lỗi chung".to_string()),
            ]
        );
    }

    #[test]
    fn every_admin_page_is_for_the_admin_alone() {
        let admin: Vec<_> = crate::web::PAGES
            .iter()
            .filter(|(_, r, _)| r.starts_with("/admin"))
            .collect();
        assert_eq!(
            admin.len(),
            25,
            "the five pages of the tree (issue 16) included"
        );
        assert!(
            admin
                .iter()
                .all(|(_, _, roles)| *roles == Some(crate::web::ADMIN))
        );
    }
}
