//! Issue 19: who may do what, written down by hand — not read from the code.
//!
//! The service's policy is built from the `security(...)` scopes of the OpenAPI annotations,
//! and the OpenAPI snapshot is regenerated from the same annotations: a role granted by
//! mistake would pass both if they were updated together. [`API`] is the independent
//! statement of the rules of docs/SECURITY.md ("Roles"), one row per operation. It is checked
//!
//! - against the OpenAPI annotations: every operation of the document is in the table with
//!   exactly the same roles, and every row of the table is an operation of the document;
//! - against the running service: each row is called by every role (and by an accountant of
//!   another unit, and anonymously) and must answer as the table says.
//!
//! Changing who may do something therefore means changing this table too, in review.
//!
//! The web UI's routes get a table of the same [`Rule`]s (a `WEB` list beside [`API`]), walked by
//! the browser-session twin of [`walk`]; the roles and scopes below are shared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::{
    db_test,
    support::{ADMIN_PASSWORD, DEMO_PASSWORD, Res, TestApp, USER_PASSWORD},
};

/// The roles of docs/SECURITY.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Finance,
    Accountant,
    Viewer,
}

use Role::{Accountant, Admin, Finance, Viewer};

impl Role {
    /// The role's name in the API (`users.role`, the OpenAPI scopes).
    pub fn name(self) -> &'static str {
        match self {
            Admin => "admin",
            Finance => "finance_officer",
            Accountant => "unit_accountant",
            Viewer => "viewer",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, without logging in.
    Public,
    /// A logged-in user with one of these roles.
    Only(&'static [Role]),
}

/// Whether a route belongs to one unit, or to one node of the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Not about one unit (a list answers, limited to the caller's part of the tree).
    Ward,
    /// About one unit (it names a unit, or an asset of one): an accountant of another unit, or
    /// a finance office or chairman of another ward, gets 404, as if it did not exist, whatever
    /// the role allows.
    Unit,
    /// About one node of the tree (the walk names the demo's ward): a finance office or
    /// chairman of another ward gets 404, as if it did not exist, whatever the role allows.
    Node,
}

/// Where a caller of the walk stands relative to the routes' unit and node (the demo's
/// school in phường Tam Thanh, and that ward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// In scope: the unit's own accountant, the ward's office and chairman, the province's
    /// finance department, the admin.
    Inside,
    /// An accountant of another unit of the same ward: the unit is out of scope, the ward's
    /// node is on the path up from their own unit.
    OtherUnit,
    /// The finance office or chairman of a second ward of the province: the unit and the ward
    /// are both out of scope.
    OtherWard,
}

impl Reach {
    /// Whether a route of `scope` must answer this caller 404 whatever the role allows.
    fn hidden(self, scope: Scope) -> bool {
        match (self, scope) {
            (Reach::Inside, _) | (_, Scope::Ward) => false,
            (Reach::OtherUnit, Scope::Unit) | (Reach::OtherWard, _) => true,
            (Reach::OtherUnit, Scope::Node) => false,
        }
    }
}

/// One route and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub scope: Scope,
}

const fn rule(method: &'static str, path: &'static str, access: Access, scope: Scope) -> Rule {
    Rule {
        method,
        path,
        access,
        scope,
    }
}

use Access::{Only, Public};
use Scope::{Node, Unit, Ward};

const EVERYONE: Access = Only(&[Admin, Finance, Accountant, Viewer]);
/// Readers of the ward's progress: not the units' accountants.
const WARD_READERS: Access = Only(&[Admin, Finance, Viewer]);
/// Those who run the campaign: the admin and the finance office.
const OFFICE: Access = Only(&[Admin, Finance]);
/// Those who enter a unit's assets.
const ENTRY: Access = Only(&[Admin, Accountant]);
const ADMIN_ONLY: Access = Only(&[Admin]);

/// Every operation of the API, and who may call it (docs/SECURITY.md, "Roles").
pub const API: &[Rule] = &[
    rule("GET", "/health", Public, Ward),
    rule("POST", "/api/v1/auth/login", Public, Ward),
    // Own account.
    rule("POST", "/api/v1/auth/logout", EVERYONE, Ward),
    rule("GET", "/api/v1/me", EVERYONE, Ward),
    rule("POST", "/api/v1/me/password", EVERYONE, Ward),
    // Catalogue.
    rule("GET", "/api/v1/asset-types", EVERYONE, Ward),
    rule("GET", "/api/v1/forms", EVERYONE, Ward),
    rule("GET", "/api/v1/forms/{form_code}", EVERYONE, Ward),
    // The administrative tree: everyone reads their part (their subtree and the path up to
    // it), the admin manages it.
    rule("GET", "/api/v1/nodes", EVERYONE, Ward),
    rule("POST", "/api/v1/nodes", ADMIN_ONLY, Ward),
    rule("GET", "/api/v1/nodes/{node_id}", EVERYONE, Node),
    rule("PATCH", "/api/v1/nodes/{node_id}", ADMIN_ONLY, Node),
    // Units: everyone reads (an accountant only their own), the admin changes.
    rule("GET", "/api/v1/units", EVERYONE, Ward),
    rule("POST", "/api/v1/units", ADMIN_ONLY, Ward),
    rule("GET", "/api/v1/units/{unit_id}", EVERYONE, Unit),
    rule("PATCH", "/api/v1/units/{unit_id}", ADMIN_ONLY, Unit),
    rule("DELETE", "/api/v1/units/{unit_id}", ADMIN_ONLY, Unit),
    // Campaigns: everyone reads, the office creates and changes.
    rule("GET", "/api/v1/campaigns", EVERYONE, Ward),
    rule("POST", "/api/v1/campaigns", OFFICE, Ward),
    rule("GET", "/api/v1/campaigns/{campaign_id}", EVERYONE, Ward),
    rule("PATCH", "/api/v1/campaigns/{campaign_id}", OFFICE, Ward),
    // Registrations: the viewer reads but never registers.
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/registrations",
        EVERYONE,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/registration",
        EVERYONE,
        Unit,
    ),
    rule(
        "PUT",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/registration",
        Only(&[Admin, Finance, Accountant]),
        Unit,
    ),
    // Assets: the admin and the unit's accountant write; everyone reads.
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/assets",
        EVERYONE,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/assets",
        ENTRY,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/imports",
        ENTRY,
        Unit,
    ),
    rule("GET", "/api/v1/assets/{asset_id}", EVERYONE, Unit),
    rule("PATCH", "/api/v1/assets/{asset_id}", ENTRY, Unit),
    rule("DELETE", "/api/v1/assets/{asset_id}", ENTRY, Unit),
    rule("GET", "/api/v1/assets/{asset_id}/history", EVERYONE, Unit),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/totals",
        EVERYONE,
        Unit,
    ),
    // Reports: the accountant submits, the office returns, accepts and extends.
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports",
        EVERYONE,
        Unit,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}",
        EVERYONE,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/submit",
        ENTRY,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/return",
        OFFICE,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/accept",
        OFFICE,
        Unit,
    ),
    rule(
        "POST",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/extension",
        OFFICE,
        Unit,
    ),
    // A unit's forms.
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}",
        EVERYONE,
        Unit,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/flat.xlsx",
        EVERYONE,
        Unit,
    ),
    // The ward's progress: not for the units' accountants.
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/progress",
        WARD_READERS,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/progress/summary",
        WARD_READERS,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/progress.xlsx",
        WARD_READERS,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/forms/{form_code}/summary.xlsx",
        WARD_READERS,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/forms/{form_code}/flat.xlsx",
        WARD_READERS,
        Ward,
    ),
    rule(
        "GET",
        "/api/v1/campaigns/{campaign_id}/reminders",
        OFFICE,
        Ward,
    ),
    // Accounts: the admin alone.
    rule("GET", "/api/v1/users", ADMIN_ONLY, Ward),
    rule("POST", "/api/v1/users", ADMIN_ONLY, Ward),
    rule("GET", "/api/v1/users/{user_id}", ADMIN_ONLY, Ward),
    rule("PATCH", "/api/v1/users/{user_id}", ADMIN_ONLY, Ward),
    rule("POST", "/api/v1/users/{user_id}/password", ADMIN_ONLY, Ward),
    // The audit trail: those who run the campaign.
    rule("GET", "/api/v1/audit-events", OFFICE, Ward),
];

/// What the table says, as "METHOD path" → `None` (public) or the role names.
fn table(rules: &[Rule]) -> BTreeMap<String, Option<BTreeSet<&'static str>>> {
    let mut out = BTreeMap::new();
    for r in rules {
        let who = match r.access {
            Public => None,
            Only(roles) => Some(roles.iter().map(|r| r.name()).collect()),
        };
        let key = format!("{} {}", r.method, r.path);
        assert!(
            out.insert(key.clone(), who).is_none(),
            "{key} is twice in the table"
        );
    }
    out
}

/// What the OpenAPI annotations say, in the same shape.
fn annotations() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let doc = serde_json::to_value(kiemke::api::openapi()).expect("openapi");
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no security"));
            let public = security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let roles: BTreeSet<String> = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(|r| r.as_str().map(String::from))
                .collect();
            out.insert(
                format!("{} {path}", method.to_uppercase()),
                if public { None } else { Some(roles) },
            );
        }
    }
    out
}

#[test]
fn the_openapi_annotations_grant_exactly_the_roles_of_the_permission_table() {
    let expected = table(API);
    let declared = annotations();
    let mut wrong = Vec::new();
    for (op, roles) in &declared {
        match expected.get(op) {
            None => wrong.push(format!(
                "{op}: not in the permission table (tests/api/permissions.rs): add who may call it"
            )),
            Some(want) => {
                let want: Option<BTreeSet<String>> = want
                    .as_ref()
                    .map(|s| s.iter().map(|r| r.to_string()).collect());
                if &want != roles {
                    wrong.push(format!(
                        "{op}: the annotation grants {roles:?}, the table {want:?}"
                    ));
                }
            }
        }
    }
    for op in expected.keys() {
        if !declared.contains_key(op) {
            wrong.push(format!(
                "{op}: in the table but not an operation of the API"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The callers of the walk: each role in scope (the ward's finance office and chairman, the
/// province's finance department, the unit's accountant), an accountant of another unit, and
/// the finance office and chairman of a second ward ([`second_ward`]).
const CALLERS: [(&str, &str, Role, Reach); 8] = [
    ("admin", ADMIN_PASSWORD, Admin, Reach::Inside),
    ("taichinh", DEMO_PASSWORD, Finance, Reach::Inside),
    (
        "ketoan.mn.tamthanh",
        DEMO_PASSWORD,
        Accountant,
        Reach::Inside,
    ),
    ("chutich", DEMO_PASSWORD, Viewer, Reach::Inside),
    ("sotaichinh", DEMO_PASSWORD, Finance, Reach::Inside),
    (
        "ketoan.mn.hoahong",
        DEMO_PASSWORD,
        Accountant,
        Reach::OtherUnit,
    ),
    ("taichinh.khac", USER_PASSWORD, Finance, Reach::OtherWard),
    ("chutich.khac", USER_PASSWORD, Viewer, Reach::OtherWard),
];

/// A second ward of the demo's province, with a unit of its own, and its finance office and
/// chairman (`taichinh.khac`, `chutich.khac`); returns the id of the demo's ward.
async fn second_ward(app: &TestApp, admin: &str) -> i64 {
    app.ward(admin, "05968", "Phường Thứ Hai (thử)", "20").await;
    app.unit_in(admin, "1109399", "Đơn vị của phường thứ hai (thử)", "05968")
        .await;
    app.bound_user(admin, "taichinh.khac", "finance_officer", "05968")
        .await;
    app.bound_user(admin, "chutich.khac", "viewer", "05968")
        .await;
    app.call("GET", "/api/v1/nodes?q=05965")
        .token(admin)
        .send()
        .await
        .expect(200)
        .json()["items"][0]["id"]
        .as_i64()
        .expect("the demo's ward")
}

/// Code of the unit of `ketoan.mn.tamthanh` (the other accountant keeps another unit).
const OWN_UNIT: &str = "1109306";

/// Calls every route of `rules` as every caller and anonymously; returns the calls made.
async fn walk(app: &TestApp, rules: &[Rule]) -> usize {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let ward = second_ward(app, &admin).await;
    let list = |path: String| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            app.call("GET", &path)
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json()["items"]
                .as_array()
                .expect("items")
                .clone()
        }
    };
    let id = |items: &[Value], key: &str, value: &str| {
        items
            .iter()
            .find(|i| i[key] == value)
            .and_then(|i| i["id"].as_i64())
            .unwrap_or_else(|| panic!("no {key} = {value}"))
    };
    let own = id(
        &list("/api/v1/units?per_page=100".into()).await,
        "code",
        OWN_UNIT,
    );
    let viewer = id(
        &list("/api/v1/users?per_page=100".into()).await,
        "username",
        "chutich",
    );
    let asset = list(format!("/api/v1/campaigns/{campaign}/units/{own}/assets")).await[0]["id"]
        .as_i64()
        .expect("an asset of the unit");
    let concrete = |path: &str| {
        path.replace("{campaign_id}", &campaign.to_string())
            .replace("{unit_id}", &own.to_string())
            .replace("{user_id}", &viewer.to_string())
            .replace("{asset_id}", &asset.to_string())
            .replace("{node_id}", &ward.to_string())
            .replace("{asset_type}", "01")
            .replace("{form_code}", "01a")
    };
    let mut calls = 0;
    for r in rules {
        let path = concrete(r.path);
        for (username, password, role, reach) in CALLERS {
            // A fresh token for each call: logout and password changes end sessions.
            let token = app.login(username, password).await;
            // A stale If-Match and an empty body keep allowed writes from changing the
            // fixtures: the answer is then a 4xx of the operation itself, never 401 or 403.
            let mut call = app
                .call(r.method, &path)
                .token(&token)
                .header("if-match", "\"999\"");
            if ["POST", "PUT", "PATCH"].contains(&r.method) {
                call = call.json(&json!({}));
            }
            let res = call.send().await;
            let status = res.status.as_u16();
            let body = String::from_utf8_lossy(&res.body);
            let who = format!("{} ({username}, {reach:?})", role.name());
            let allowed = match r.access {
                Public => true,
                Only(roles) => roles.contains(&role),
            };
            if matches!(r.access, Only(_)) && reach.hidden(r.scope) {
                assert_eq!(
                    status, 404,
                    "{} {} as {who}: data outside the caller's scope must not be revealed: {body}",
                    r.method, r.path
                );
            } else if allowed {
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{} {} as {who}: the table allows it, the service answered {status}: {body}",
                    r.method,
                    r.path
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{} {} as {who}: the table refuses it: {body}",
                    r.method, r.path
                );
            }
            calls += 1;
        }
        let mut anonymous = app.call(r.method, &path);
        if ["POST", "PUT", "PATCH"].contains(&r.method) {
            anonymous = anonymous.json(&json!({}));
        }
        let status = anonymous.send().await.status.as_u16();
        match r.access {
            Public => assert!(
                ![401, 403].contains(&status) && status < 500,
                "{} {} is public, yet anonymous got {status}",
                r.method,
                r.path
            ),
            Only(_) => assert_eq!(status, 401, "{} {} anonymous", r.method, r.path),
        }
        calls += 1;
    }
    calls
}

db_test!(
    the_running_service_grants_exactly_the_roles_of_the_permission_table,
    |app| {
        let calls = walk(&app, API).await;
        assert_eq!(calls, API.len() * (CALLERS.len() + 1));
    }
);

// ---------------------------------------------------------------- the web pages

/// The host the web walk's requests name, and their (same-site) origin.
const HOST: &str = "kiemke.test";

/// A web session: the cookie set by the login form, and the form token its pages carry.
struct WebSession {
    cookie: String,
    csrf: String,
}

/// Logs in through the login form, as a browser does, and keeps the session cookie.
async fn web_login(app: &TestApp, username: &str, password: &str) -> WebSession {
    let body = format!(
        "username={}&password={}",
        urlencode(username),
        urlencode(password)
    );
    let res = app
        .call("POST", "/login")
        .header("host", HOST)
        .header("origin", &format!("http://{HOST}"))
        .raw("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await
        .expect(303);
    let set = res
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{}=", kiemke::web::SESSION_COOKIE)))
        .and_then(|v| v.split(';').next())
        .expect("the login form sets the session cookie")
        .to_string();
    WebSession {
        csrf: kiemke::web::csrf_token(&set),
        cookie: format!("{}={set}", kiemke::web::SESSION_COOKIE),
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One web request of the walk: a browser's headers, the session cookie if any, and for a
/// POST the form token with a body that changes nothing (a stale version, a nil return left
/// unconfirmed, no file): an allowed POST answers with its own page, never with a change.
async fn web_call(app: &TestApp, method: &str, path: &str, session: Option<&WebSession>) -> Res {
    let mut call = app
        .call(method, path)
        .header("host", HOST)
        .header("accept", "text/html");
    if let Some(s) = session {
        call = call.header("cookie", &s.cookie);
    }
    if method != "GET" {
        call = call.header("origin", &format!("http://{HOST}"));
        let csrf = session.map(|s| s.csrf.as_str()).unwrap_or_default();
        call = call.raw(
            "application/x-www-form-urlencoded",
            format!("csrf={csrf}&version=999999&nil_return=1").into_bytes(),
        );
    }
    call.send().await
}

/// The roles `kiemke::web::PAGES` grants a route, as this file's [`Role`]s (`None`: public).
fn web_access(roles: Option<&[kiemke::auth::Role]>) -> Access {
    match roles {
        None => Public,
        Some(roles) => {
            let mine: Vec<Role> = [Admin, Finance, Accountant, Viewer]
                .into_iter()
                .filter(|r| roles.iter().any(|k| k.as_str() == r.name()))
                .collect();
            Only(Vec::leak(mine))
        }
    }
}

/// The parameters of a route template, in order.
fn params(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Every route of the web pages: `kiemke::web::PAGES`, read as [`Rule`]s. A route naming a
/// unit or an asset (the parameters the policy scopes) is a unit's page.
fn web_rules() -> Vec<Rule> {
    kiemke::web::PAGES
        .iter()
        .map(|&(method, path, roles)| {
            let names = params(path);
            let scope = if names.iter().any(|p| ["unit_id", "asset_id"].contains(p)) {
                Unit
            } else if names.contains(&"node_id") {
                Node
            } else {
                Ward
            };
            rule(method, path, web_access(roles), scope)
        })
        .collect()
}

/// The (method, path) pairs routed in the web pages' sources (src/web/, every file): each
/// `.route("path", get(…).post(…))`, read up to the next router call.
fn routed_web_pages() -> BTreeSet<(String, String)> {
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).expect("regex");
    let method = regex::Regex::new(r"(?:^|[^:\w])(get|post|put|patch|delete)\(").expect("regex");
    let end =
        regex::Regex::new(r"\.(?:route|route_layer|layer|with_state|merge|nest|fallback)\(|\n\}")
            .expect("regex");
    let mut out = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/web"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/web") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for c in route.captures_iter(&text) {
                    let whole = c.get(0).expect("match");
                    let rest = &text[whole.end()..];
                    let rest = &rest[..end.find(rest).map_or(rest.len(), |m| m.start())];
                    for m in method.captures_iter(rest) {
                        out.insert((m[1].to_uppercase(), c[1].to_string()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_routed_web_page_declares_who_may_use_it() {
    let routed = routed_web_pages();
    for known in [
        ("GET", "/units/{unit_id}/types/{type_code}"),
        ("POST", "/assets/{asset_id}"),
    ] {
        assert!(
            routed.contains(&(known.0.to_string(), known.1.to_string())),
            "the scan of src/web misses {known:?}: {routed:?}"
        );
    }
    let declared: BTreeSet<(String, String)> = kiemke::web::PAGES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let undeclared: Vec<_> = routed.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "routed web pages missing from kiemke::web::PAGES (src/web/mod.rs): {undeclared:?}"
    );
    let unrouted: Vec<_> = declared.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "kiemke::web::PAGES declares pages no router serves: {unrouted:?}"
    );
}

/// Walks every route of `kiemke::web::PAGES` as every role, a foreign accountant and
/// anonymously, through the real router with cookie sessions; returns the calls made.
async fn web_walk(app: &TestApp) -> usize {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let ward = second_ward(app, &admin).await;
    let items = |path: String| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            app.call("GET", &path)
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json()["items"]
                .as_array()
                .expect("items")
                .clone()
        }
    };
    let own = items("/api/v1/units?per_page=100".into())
        .await
        .iter()
        .find(|u| u["code"] == OWN_UNIT)
        .and_then(|u| u["id"].as_i64())
        .expect("the own unit");
    // A user of its own, so that an admin page acting on `{user_id}` touches none of the callers.
    app.call("POST", "/api/v1/users")
        .token(&admin)
        .json(&json!({
            "username": "walk.target", "full_name": "Walk target", "role": "viewer",
            "password": crate::support::USER_PASSWORD
        }))
        .send()
        .await
        .expect(201);
    let target_user = items("/api/v1/users?per_page=100".into())
        .await
        .iter()
        .find(|u| u["username"] == "walk.target")
        .and_then(|u| u["id"].as_i64())
        .expect("the walk's user");
    let asset = items(format!("/api/v1/campaigns/{campaign}/units/{own}/assets")).await[0].clone();
    let asset_id = asset["id"].as_i64().expect("an asset of the unit");
    let asset_type = asset["asset_type"].as_str().expect("its type").to_string();
    let static_file = kiemke::web::static_urls()
        .site
        .trim_start_matches("/static/")
        .to_string();
    // A real value for each parameter the walk knows; `None` for one it cannot name (the
    // page may then answer 404 to an allowed caller too, say for an upload that never was).
    let value = |name: &str| -> Option<String> {
        Some(match name {
            "unit_id" => own.to_string(),
            "asset_id" => asset_id.to_string(),
            "type_code" | "asset_type" => asset_type.clone(),
            "campaign_id" => campaign.to_string(),
            "user_id" => target_user.to_string(),
            "node_id" => ward.to_string(),
            "form_code" => "01a".into(),
            "layout" => "official".into(),
            "code" => "en".into(),
            "file" => static_file.clone(),
            _ => return None,
        })
    };
    let mut calls = 0;
    let mut unnamed = BTreeSet::new();
    for r in web_rules() {
        let mut path = r.path.to_string();
        let mut real = true;
        for p in params(r.path) {
            let v = value(p).unwrap_or_else(|| {
                real = false;
                unnamed.insert(format!("{} {}", r.method, r.path));
                "0".into()
            });
            path = path.replace(&format!("{{{p}}}"), &v);
        }
        let what = |who: &str, res: &Res| {
            format!(
                "{} {} ({path}) as {who}: {} {:?}: {}",
                r.method,
                r.path,
                res.status,
                res.headers.get("location"),
                String::from_utf8_lossy(&res.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )
        };
        let is_page = |res: &Res| res.content_type().starts_with("text/html");
        let to_login = |res: &Res| {
            res.status.as_u16() == 303
                && res.headers.get("location").and_then(|v| v.to_str().ok()) == Some("/login")
        };
        for (username, password, role, reach) in CALLERS {
            let who = format!("{} ({username}, {reach:?})", role.name());
            // A fresh session for each call: logout and password changes end sessions.
            let session = web_login(app, username, password).await;
            let res = web_call(app, r.method, &path, Some(&session)).await;
            let status = res.status.as_u16();
            let allowed = match r.access {
                Public => true,
                Only(roles) => roles.contains(&role),
            };
            if matches!(r.access, Only(_)) && reach.hidden(r.scope) {
                assert!(
                    status == 404 && is_page(&res),
                    "a page outside the caller's scope must be the 404 page: {}",
                    what(&who, &res)
                );
            } else if allowed {
                assert!(
                    status < 500 && status != 403 && (status != 404 || !real) && !to_login(&res),
                    "PAGES allows it, the page refused: {}",
                    what(&who, &res)
                );
                if matches!(r.access, Only(_)) && real {
                    assert!(
                        [200, 303, 400, 409, 422].contains(&status),
                        "an allowed page answers itself (200, 303, or its refusal of the \
                         walk's empty form): {}",
                        what(&who, &res)
                    );
                }
            } else {
                assert!(
                    status == 403 && is_page(&res),
                    "PAGES refuses it, the answer must be the 403 page: {}",
                    what(&who, &res)
                );
            }
            calls += 1;
        }
        let res = web_call(app, r.method, &path, None).await;
        match r.access {
            Public => assert!(
                res.status.as_u16() < 500 && res.status.as_u16() != 403 && !to_login(&res),
                "a public page refused anonymous: {}",
                what("anonymous", &res)
            ),
            Only(_) => assert!(
                to_login(&res),
                "anonymous must be sent to the login page: {}",
                what("anonymous", &res)
            ),
        }
        calls += 1;
    }
    if !unnamed.is_empty() {
        eprintln!(
            "web walk: parameters without a real value (404 accepted when allowed): {unnamed:?}"
        );
    }
    calls
}

db_test!(
    every_web_page_answers_each_role_as_the_page_table_says,
    |app| {
        let calls = web_walk(&app).await;
        assert_eq!(calls, kiemke::web::PAGES.len() * (CALLERS.len() + 1));
    }
);

db_test!(an_accountant_sees_only_their_own_unit, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let mine = app.unit(&admin, "1000001", "Mine").await;
    let other = app.unit(&admin, "1000002", "Other").await;
    app.register(&admin, campaign, other, &["01"]).await;
    let token = app
        .user(&admin, "ketoan.mine", "unit_accountant", &[mine])
        .await;
    let list = app
        .call("GET", "/api/v1/units")
        .token(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine);
    app.call("GET", &format!("/api/v1/units/{other}"))
        .token(&token)
        .send()
        .await
        .expect(404);
    app.call(
        "GET",
        &format!("/api/v1/campaigns/{campaign}/units/{other}/registration"),
    )
    .token(&token)
    .send()
    .await
    .expect(404);
    let reg = app
        .call("PUT", &format!("/api/v1/campaigns/{campaign}/units/{mine}/registration"))
        .token(&token)
        .json(&json!({"team_decision_no": "1", "team_members": [{"name": "A"}], "asset_types": ["01"]}))
        .send()
        .await
        .expect(201);
    assert_eq!(reg.json()["unit_id"], mine);
    let regs = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/registrations"),
        )
        .token(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(regs.as_array().unwrap().len(), 1);
    app.call("PATCH", &format!("/api/v1/units/{mine}"))
        .token(&token)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .expect(403);
});

/// Every operation of the OpenAPI document, called by every role and by an
/// accountant of another unit, answers as its security declaration says.
async fn walk_permission_matrix(app: TestApp) {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let units = app
        .call("GET", "/api/v1/units?per_page=100")
        .token(&admin)
        .send()
        .await
        .json();
    let own = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "1109306")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let viewer_id = app
        .call("GET", "/api/v1/users?per_page=100")
        .token(&admin)
        .send()
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "chutich")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let asset_id = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{own}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let doc = serde_json::to_value(kiemke::api::openapi()).unwrap();
    let roles: [(&str, &str, &str); 5] = [
        ("admin", "admin", ADMIN_PASSWORD),
        ("finance_officer", "taichinh", DEMO_PASSWORD),
        ("unit_accountant", "ketoan.mn.tamthanh", DEMO_PASSWORD),
        ("viewer", "chutich", DEMO_PASSWORD),
        ("foreign_accountant", "ketoan.mn.hoahong", DEMO_PASSWORD),
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op["security"]
                .as_array()
                .expect("every operation declares security");
            let public = security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let allowed: Vec<&str> = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (role, username, password) in roles {
                let concrete = path
                    .replace("{campaign_id}", &campaign.to_string())
                    .replace("{unit_id}", &own.to_string())
                    .replace("{user_id}", &viewer_id.to_string())
                    .replace("{asset_id}", &asset_id.to_string())
                    .replace("{asset_type}", "01")
                    .replace("{form_code}", "01a");
                let token = app.login(username, password).await;
                // A stale If-Match keeps allowed writes from destroying the fixtures the walk needs.
                let mut call = app
                    .call(&method.to_uppercase(), &concrete)
                    .token(&token)
                    .header("if-match", "\"999\"");
                if ["post", "put", "patch"].contains(&method.as_str()) {
                    call = call.json(&json!({}));
                }
                let status = call.send().await.status.as_u16();
                let unit_scoped = path.contains("{unit_id}") || path.contains("{asset_id}");
                let expected_role = if role == "foreign_accountant" {
                    "unit_accountant"
                } else {
                    role
                };
                let may = public || allowed.contains(&expected_role);
                if role == "foreign_accountant" && unit_scoped {
                    assert_eq!(
                        status, 404,
                        "{role} {method} {path}: another unit's data must not be revealed"
                    );
                } else if may {
                    assert!(
                        ![401, 403].contains(&status),
                        "{role} {method} {path}: allowed but got {status}"
                    );
                    assert!(
                        status < 500,
                        "{role} {method} {path}: server error {status}"
                    );
                } else {
                    assert_eq!(status, 403, "{role} {method} {path}: expected 403");
                }
                checked += 1;
            }
            let anonymous = app
                .call(
                    &method.to_uppercase(),
                    &path
                        .replace("{campaign_id}", "1")
                        .replace("{unit_id}", "1")
                        .replace("{user_id}", "1")
                        .replace("{form_code}", "01a"),
                )
                .send()
                .await
                .status
                .as_u16();
            if !public {
                assert_eq!(anonymous, 401, "anonymous {method} {path}");
            }
        }
    }
    assert!(checked >= 5 * 20, "the matrix walked {checked} calls");
}

db_test!(
    every_route_answers_each_role_as_its_security_declaration_says,
    |app| {
        walk_permission_matrix(app).await;
    }
);
