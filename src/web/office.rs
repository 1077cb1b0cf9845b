//! The finance office's and the chairman's pages: the board, a unit's page, the actions on a
//! report (return, accept, extension), the summary paragraph, reminders and downloads.
//!
//! Every page calls the domain functions the API calls ([`progress`], [`reports`],
//! [`workbooks`]); the chairman (viewer) gets the same pages without action buttons, and
//! the action routes refuse the role ([`super::REVIEW`] in [`super::PAGES`]).

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Path, Query, RawForm, State},
    http::StatusCode,
    response::IntoResponse,
};
use chrono::NaiveDate;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value as Json;
use validator::Validate;

use super::{
    Texts, WebResult, WebUser, charts, html,
    office_text::{self, OfficeTexts},
    pages::{
        Layout, campaign_or_404, cell, due_text, form_of, label, layout_for, parse_form,
        redirect_see_other, state_label, url_encode, vn_date, vn_time,
    },
    text,
};
use crate::{
    assets::{self, AssetFilter, AssetSort},
    auth::{Role, Scope},
    clock,
    error::{AppError, FieldError, Lang},
    numfmt::{vn_money, vn_number},
    pagination::PageQuery,
    progress::{self, AreaRow, ProgressFilter, UnitSort, View},
    registrations, replica,
    reports::{self, AssetComment, ExtensionRequest, ReportState, ReturnComment, ReturnRequest},
    state::AppState,
    tree::{self, Level},
    units::{self, UnitKind},
    workbooks,
};

/// Unit rows per page of the board.
const PER_PAGE: u64 = 50;
/// Records shown on a unit's page per report (the asset list pages through the rest).
const RECORDS_SHOWN: u64 = 100;
/// Rows of "comment on an asset" offered on the return page.
const COMMENT_ROWS: usize = 5;

fn o() -> &'static OfficeTexts {
    office_text::of(Lang::current())
}

fn t() -> &'static Texts {
    text::of(Lang::current())
}

/// Colours of the report states in the charts and badges (the same order as [`ReportState::ALL`]).
fn state_color(s: ReportState) -> &'static str {
    match s {
        ReportState::NotStarted => "#8c959f",
        ReportState::Draft => "#bf8700",
        ReportState::Submitted => "#0a58ca",
        ReportState::Returned => "#a4161a",
        ReportState::Accepted => "#1a7f37",
    }
}

fn may_review(u: &WebUser) -> bool {
    super::REVIEW.contains(&u.actor.role)
}

fn kind_label(k: UnitKind) -> &'static str {
    k.label_vi()
}

/// A query-string value as one of an enum's names (anything else: no filter).
fn parse_enum<T: DeserializeOwned>(s: Option<&str>) -> Option<T> {
    s.filter(|s| !s.is_empty())
        .and_then(|s| serde_json::from_value(Json::String(s.to_string())).ok())
}

fn form_name(state: &AppState, type_code: &str) -> (String, String) {
    state
        .forms
        .form_for_type(type_code)
        .map(|f| {
            (
                f.code.clone(),
                f.asset_type.name.get(Lang::current()).to_string(),
            )
        })
        .unwrap_or_else(|| (type_code.to_string(), String::new()))
}

// ---------------------------------------------------------------- where in the tree

/// `?node=` of the board, summary, reminders and downloads pages and of the files downloaded
/// (a number; anything else is ignored).
#[derive(Deserialize, Default)]
pub struct NodeParam {
    node: Option<String>,
}

fn parse_node(s: Option<&str>) -> Option<i64> {
    s.and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
}

/// Where in the tree an office page stands: the breadcrumb (each node above that the caller
/// may open, as a link) and the children to pick (a province's wards, the provinces).
struct Place {
    crumbs: Vec<(String, String)>,
    here: String,
    children: Vec<(i64, String)>,
    pick: &'static str,
    action: &'static str,
}

/// The place of a view on the page at `action` (`/board`, `/summary`, `/reminders`,
/// `/downloads`); `None`
/// in an installation with no tree.
async fn place(
    state: &AppState,
    u: &WebUser,
    v: &View,
    action: &'static str,
) -> WebResult<Option<Place>> {
    let o = o();
    if v.path.is_empty() && v.rollup.is_none() {
        return Ok(None);
    }
    let mut crumbs = Vec::new();
    if !v.path.is_empty() && u.actor.scope == Scope::All {
        crumbs.push((o.whole_installation.to_string(), action.to_string()));
    }
    for n in v.path.iter().rev().skip(1).rev() {
        let opens = match u.actor.scope {
            Scope::All => true,
            Scope::Province(p) => p == n.id,
            Scope::Ward(_) | Scope::Units(_) => false,
        };
        if opens {
            crumbs.push((n.name.clone(), format!("{action}?node={}", n.id)));
        }
    }
    let children = match v.rollup {
        Some(_) => tree::children(&state.db, v.node().map(|n| n.id))
            .await?
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect(),
        None => vec![],
    };
    Ok(Some(Place {
        crumbs,
        here: v
            .node()
            .map_or_else(|| o.whole_installation.to_string(), |n| n.name.clone()),
        children,
        pick: match v.rollup {
            Some(Level::Province) => o.pick_province,
            _ => o.pick_ward,
        },
        action,
    }))
}

/// One row of the roll-up table: a ward of a province, or a province.
struct AreaLine {
    href: Option<String>,
    code: String,
    name: String,
    units: i64,
    teams: String,
    registered: String,
    sent: String,
    overdue: i64,
    accepted_all: bool,
    accepted: String,
}

fn area_line(a: &AreaRow) -> AreaLine {
    let o = o();
    let registered = a.registered_on_time + a.registered_late;
    AreaLine {
        href: a.node.as_ref().map(|n| format!("/board?node={}", n.id)),
        code: a.node.as_ref().map(|n| n.code.clone()).unwrap_or_default(),
        name: a
            .node
            .as_ref()
            .map_or_else(|| o.unplaced.to_string(), |n| n.name.clone()),
        units: a.units_total,
        teams: format!("{}/{}", a.teams_established, a.units_total),
        registered: format!("{registered}/{}", a.units_total),
        sent: format!(
            "{}/{}",
            a.submitted_on_time + a.submitted_late,
            a.obligations
        ),
        overdue: a.overdue,
        accepted_all: a.accepted_all,
        accepted: match (a.accepted_all, a.accepted_at) {
            (true, Some(at)) => format!("{} ({})", o.accepted_all, vn_time(at)),
            (true, None) => o.accepted_all.to_string(),
            (false, _) => o.not_accepted_all.to_string(),
        },
    }
}

// ---------------------------------------------------------------- board

/// `GET /board` query: the filters as a form sends them (empty = no filter).
#[derive(Deserialize, Default)]
pub struct BoardQuery {
    q: Option<String>,
    state: Option<String>,
    asset_type: Option<String>,
    overdue: Option<String>,
    kind: Option<String>,
    sort: Option<String>,
    page: Option<u64>,
    /// Keyset pagination: the rows after the unit with this code (the "next" link's).
    after: Option<String>,
    /// The node shown (default: the caller's own).
    node: Option<String>,
}

struct Badge {
    form_code: String,
    label: &'static str,
    class: &'static str,
}

struct BoardRow {
    unit_id: i64,
    code: String,
    name: String,
    registered: bool,
    badges: Vec<Badge>,
    days_overdue: String,
    last_activity: String,
}

struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "office_board.html")]
struct BoardPage {
    l: Layout,
    o: &'static OfficeTexts,
    review: bool,
    campaign: String,
    deadline: String,
    due: String,
    overdue: bool,
    as_of: String,
    figures: Vec<Figure>,
    state_heads: Vec<&'static str>,
    chart_states: String,
    states_rows: Vec<(String, Vec<i64>, i64)>,
    states_total: (Vec<i64>, i64),
    chart_timeline: String,
    timeline_rows: Vec<(String, i64, i64)>,
    q: String,
    f_state: String,
    f_type: String,
    f_overdue: String,
    f_kind: String,
    f_sort: String,
    state_options: Vec<(&'static str, &'static str)>,
    type_options: Vec<(String, String)>,
    kind_options: Vec<(&'static str, &'static str)>,
    sort_options: Vec<(&'static str, &'static str)>,
    rows: Vec<BoardRow>,
    rows_found: String,
    page_label: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    filtered: bool,
    place: Option<Place>,
    node_id: String,
    areas_title: &'static str,
    areas: Vec<AreaLine>,
}

fn sort_label(o: &OfficeTexts, s: UnitSort) -> &'static str {
    match s {
        UnitSort::Code => o.sort_code,
        UnitSort::CodeDesc => o.sort_code_desc,
        UnitSort::Name => o.sort_name,
        UnitSort::NameDesc => o.sort_name_desc,
    }
}

/// `GET /board`: the finance office's and the chairman's home.
pub async fn board(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<BoardQuery>,
) -> WebResult {
    let (t, o) = (t(), o());
    let c = campaign_or_404(&state).await?;
    let search: Option<String> =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(100).collect());
    let filter = ProgressFilter {
        state: parse_enum(q.state.as_deref()),
        asset_type: q
            .asset_type
            .clone()
            .filter(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())),
        overdue: match q.overdue.as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
        q: search.clone(),
        kind: parse_enum(q.kind.as_deref()),
        sort: parse_enum(q.sort.as_deref()),
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let page = PageQuery {
        page: Some(page_no),
        per_page: Some(PER_PAGE),
    };
    let after = q
        .after
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty() && a.len() <= 7);
    let rs = replica::reader(&state, &u.actor).await;
    let node = parse_node(q.node.as_deref());
    let v = progress::view(&rs, &u.actor, node).await?;
    let (b, timeline) =
        progress::board_and_timeline_of(&rs, &v, c.id, &filter, &page, after).await?;
    let now = state.clock.now();
    let registered = b.registered_on_time + b.registered_late;
    let by_type: Vec<String> = b
        .registrations_by_type
        .iter()
        .map(|(ty, n)| format!("{}: {n}", form_name(&state, ty).0))
        .collect();
    let states: Vec<String> = ReportState::ALL
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                state_label(t, *s),
                b.reports_by_state.get(s.as_str()).copied().unwrap_or(0)
            )
        })
        .collect();
    let figures = vec![
        Figure {
            id: "fig-units",
            label: o.units_in_scope,
            value: b.units_total.to_string(),
        },
        Figure {
            id: "fig-teams",
            label: o.teams_established,
            value: format!("{}/{}", b.teams_established, b.units_total),
        },
        Figure {
            id: "fig-registered",
            label: o.registered,
            value: format!(
                "{}/{}/{}",
                b.registered_on_time, b.registered_late, b.not_registered
            ),
        },
        Figure {
            id: "fig-by-type",
            label: o.registrations_by_type,
            value: by_type.join(" · "),
        },
        Figure {
            id: "fig-obligations",
            label: o.obligations,
            value: b.obligations.to_string(),
        },
        Figure {
            id: "fig-states",
            label: o.reports_by_state,
            value: states.join(" · "),
        },
        Figure {
            id: "fig-on-time",
            label: o.sent_on_time,
            value: b.submitted_on_time.to_string(),
        },
        Figure {
            id: "fig-late",
            label: o.sent_late,
            value: b.submitted_late.to_string(),
        },
        Figure {
            id: "fig-overdue",
            label: o.overdue_reports,
            value: b.overdue.to_string(),
        },
        Figure {
            id: "fig-complete",
            label: o.units_complete,
            value: format!("{}/{registered}", b.units_fully_submitted),
        },
    ];

    // Chart 1: report states per asset type, with its table.
    let series: Vec<charts::Series> = ReportState::ALL
        .iter()
        .map(|s| charts::Series {
            label: state_label(t, *s),
            color: state_color(*s),
        })
        .collect();
    let mut states_rows = Vec::new();
    let mut col_totals = vec![0i64; ReportState::ALL.len()];
    for (ty, counts) in &b.states_by_type {
        let values: Vec<i64> = ReportState::ALL
            .iter()
            .map(|s| counts.get(s.as_str()).copied().unwrap_or(0))
            .collect();
        for (total, v) in col_totals.iter_mut().zip(&values) {
            *total += v;
        }
        let sum = values.iter().sum();
        states_rows.push((form_name(&state, ty).0, values, sum));
    }
    let chart_states = charts::stacked_bars(
        "chart-states",
        o.chart_states_title,
        o.chart_states_desc,
        &series,
        &states_rows
            .iter()
            .map(|(f, v, _)| (f.clone(), v.clone()))
            .collect::<Vec<_>>(),
    );
    let grand: i64 = col_totals.iter().sum();

    // Chart 2: cumulative submissions against the deadline and its extensions.
    let mut markers = vec![charts::Marker {
        date: timeline.deadline,
        label: o.chart_deadline,
        color: "#a4161a",
    }];
    for d in &timeline.extensions {
        markers.push(charts::Marker {
            date: *d,
            label: o.chart_extension,
            color: "#9a4d00",
        });
    }
    let points: Vec<(NaiveDate, i64)> = timeline
        .days
        .iter()
        .map(|d| (d.date, d.cumulative))
        .collect();
    let chart_timeline = charts::cumulative_line(
        "chart-timeline",
        o.chart_timeline_title,
        o.chart_timeline_desc,
        o.chart_none_sent,
        &points,
        timeline.obligations,
        o.chart_owed,
        &markers,
        clock::local_date(now),
    );
    let timeline_rows = timeline
        .days
        .iter()
        .map(|d| (vn_date(d.date), d.sent, d.cumulative))
        .collect();

    let rows = b
        .rows
        .iter()
        .map(|r| BoardRow {
            unit_id: r.unit_id,
            code: r.code.clone(),
            name: r.name.clone(),
            registered: r.registered,
            badges: r
                .reports
                .iter()
                .map(|rep| Badge {
                    form_code: rep.form_code.clone(),
                    label: state_label(t, rep.state),
                    class: rep.state.as_str(),
                })
                .collect(),
            days_overdue: r.days_overdue.map(|d| d.to_string()).unwrap_or_default(),
            last_activity: r.last_activity.map(vn_time).unwrap_or_default(),
        })
        .collect();

    // The filters as they go back into links (pagination keeps them).
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &search {
        params.push(("q", s.clone()));
    }
    if let Some(s) = filter.state {
        params.push(("state", s.as_str().to_string()));
    }
    if let Some(s) = &filter.asset_type {
        params.push(("asset_type", s.clone()));
    }
    if let Some(v) = filter.overdue {
        params.push(("overdue", v.to_string()));
    }
    if let Some(k) = filter.kind {
        params.push(("kind", k.as_str().to_string()));
    }
    if let Some(s) = filter.sort {
        params.push(("sort", s.as_str().to_string()));
    }
    let filtered = !params.is_empty();
    if let Some(n) = node {
        params.insert(0, ("node", n.to_string()));
    }
    let href = |p: u64, after: Option<&str>| {
        let mut s = String::from("/board?");
        for (k, v) in &params {
            s.push_str(&format!("{k}={}&", url_encode(v)));
        }
        // "Next" continues after the last row shown (keyset: a deep page costs what the first
        // does); the page number only labels the page.
        if let Some(a) = after {
            s.push_str(&format!("after={}&", url_encode(a)));
        }
        s.push_str(&format!("page={p}"));
        s
    };
    let pages = b.rows_total.div_ceil(PER_PAGE).max(1);
    let days = clock::days_left(now, c.submission_deadline);
    html(&BoardPage {
        l: layout_for(&u, None),
        o,
        review: may_review(&u),
        campaign: c.name.clone(),
        deadline: vn_date(c.submission_deadline),
        due: due_text(t, days),
        overdue: days < 0,
        as_of: vn_time(b.as_of),
        figures,
        state_heads: ReportState::ALL
            .iter()
            .map(|s| state_label(t, *s))
            .collect(),
        chart_states,
        states_rows,
        states_total: (col_totals, grand),
        chart_timeline,
        timeline_rows,
        q: search.unwrap_or_default(),
        f_state: filter
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        f_type: filter.asset_type.clone().unwrap_or_default(),
        f_overdue: filter.overdue.map(|v| v.to_string()).unwrap_or_default(),
        f_kind: filter
            .kind
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        f_sort: filter.sort.unwrap_or_default().as_str().to_string(),
        state_options: ReportState::ALL
            .iter()
            .map(|s| (s.as_str(), state_label(t, *s)))
            .collect(),
        type_options: b
            .registrations_by_type
            .keys()
            .map(|ty| {
                let (form, name) = form_name(&state, ty);
                (ty.clone(), format!("{form} — {name}"))
            })
            .collect(),
        kind_options: UnitKind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(*k)))
            .collect(),
        sort_options: UnitSort::ALL
            .iter()
            .map(|s| (s.as_str(), sort_label(o, *s)))
            .collect(),
        rows,
        rows_found: o.rows_found.replace("{n}", &b.rows_total.to_string()),
        page_label: format!(
            "{} / {pages}",
            o.page_of.replace("{n}", &page_no.to_string())
        ),
        prev_href: (page_no > 1).then(|| href(page_no - 1, None)),
        next_href: b.next_after.as_deref().map(|a| href(page_no + 1, Some(a))),
        filtered,
        place: place(&state, &u, &v, "/board").await?,
        node_id: node.map(|n| n.to_string()).unwrap_or_default(),
        areas_title: match b.rollup {
            Some(Level::Province) => o.provinces_table,
            _ => o.wards_table,
        },
        areas: b.areas.iter().map(area_line).collect(),
    })
}

// ---------------------------------------------------------------- a unit's page

/// `?done=` after an action: which result to announce.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

struct HistoryLine {
    when: String,
    who: String,
    what: &'static str,
    detail: String,
    comments: Vec<(String, String)>,
}

struct ChangeLine {
    code: String,
    fields: Vec<(String, String, String)>,
}

struct ReportBlock {
    type_code: String,
    type_name: String,
    form_code: String,
    state: &'static str,
    state_class: &'static str,
    submitted: bool,
    why_not: String,
    nil_return: bool,
    records: String,
    original_cost: String,
    depreciation: String,
    remaining_value: String,
    deadline: String,
    overdue: bool,
    extension: Option<String>,
    digest: Option<String>,
    history: Vec<HistoryLine>,
    heads: Vec<String>,
    /// Whether each column holds a number (aligned right).
    nums: Vec<bool>,
    record_rows: Vec<Vec<String>>,
    more: bool,
    changes: Option<(Vec<String>, Vec<String>, Vec<ChangeLine>)>,
    return_reason: Option<String>,
    current_comments: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "office_unit.html")]
struct UnitPage {
    l: Layout,
    o: &'static OfficeTexts,
    review: bool,
    unit_id: i64,
    code: String,
    name: String,
    kind: &'static str,
    accountant: String,
    registration: Option<registrations::RegistrationView>,
    decision_date: String,
    registered_at: String,
    registered_on_time: bool,
    reports: Vec<ReportBlock>,
    records_shown: String,
}

/// Codes of a report's assets by id (for comments and history).
async fn codes_by_id(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> WebResult<Vec<(i64, String, String)>> {
    let page = assets::list(
        state,
        campaign_id,
        unit_id,
        &AssetFilter {
            asset_type: Some(type_code.to_string()),
            section: None,
            usage_status: None,
            origin: None,
            q: None,
            sort: Some(AssetSort::Code),
        },
        &PageQuery {
            page: Some(1),
            per_page: Some(10_000),
        },
    )
    .await?;
    Ok(page
        .items
        .iter()
        .map(|a| {
            let s = |k: &str| {
                a.values
                    .get(k)
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (a.id, s("code"), s("name"))
        })
        .collect())
}

fn code_of(codes: &[(i64, String, String)], id: i64) -> String {
    codes
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, c, _)| c.clone())
        .unwrap_or_else(|| format!("#{id}"))
}

fn comments_with_codes(
    codes: &[(i64, String, String)],
    comments: &[AssetComment],
) -> Vec<(String, String)> {
    comments
        .iter()
        .map(|c| (code_of(codes, c.asset_id), c.comment.clone()))
        .collect()
}

fn json_text(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `GET /units/{unit_id}`: a unit's registration, team, reports with their history,
/// records, snapshot digest and change list.
pub async fn unit_page(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    let (t, o) = (t(), o());
    let unit_id = u.unit(&state, unit_id).await?;
    let c = campaign_or_404(&state).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let registration = match registrations::get(&state, c.id, unit_id).await {
        Ok(r) => Some(r),
        Err(e) if e.status() == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    let mut reports = Vec::new();
    if registration.is_some() {
        for summary in reports::list(&state, c.id, unit_id).await? {
            let r = reports::get(&state, c.id, unit_id, &summary.asset_type).await?;
            let form = form_of(&state, &r.asset_type)?;
            let codes = codes_by_id(&state, c.id, unit_id, &r.asset_type).await?;
            let events = reports::history(&state.db, r.id).await?;
            let mut sent = 0;
            let history = events
                .iter()
                .map(|e| {
                    let what = match e.action.as_str() {
                        "submit" => {
                            sent += 1;
                            if sent > 1 { o.ev_resubmit } else { o.ev_submit }
                        }
                        "return" => o.ev_return,
                        "accept" => o.ev_accept,
                        _ => o.ev_extension,
                    };
                    HistoryLine {
                        when: vn_time(e.at),
                        who: e.actor.clone().unwrap_or_default(),
                        what,
                        detail: e.detail.clone().unwrap_or_default(),
                        comments: comments_with_codes(&codes, &e.comments),
                    }
                })
                .collect();
            let keys = [
                "code",
                "name",
                "qty_counted",
                "original_cost",
                "depreciation",
                "remaining_value",
                "usage_status",
            ];
            let keys: Vec<&str> = keys
                .into_iter()
                .filter(|k| form.field(k).is_some())
                .collect();
            let page = assets::list(
                &state,
                c.id,
                unit_id,
                &AssetFilter {
                    asset_type: Some(r.asset_type.clone()),
                    section: None,
                    usage_status: None,
                    origin: None,
                    q: None,
                    sort: Some(AssetSort::Code),
                },
                &PageQuery {
                    page: Some(1),
                    per_page: Some(RECORDS_SHOWN),
                },
            )
            .await?;
            let record_rows = page
                .items
                .iter()
                .map(|a| keys.iter().map(|k| cell(&form, a, k)).collect())
                .collect();
            let changes = r.changes_since_returned.as_ref().map(|ch| {
                (
                    ch.added.clone(),
                    ch.removed.clone(),
                    ch.changed
                        .iter()
                        .map(|rc| ChangeLine {
                            code: rc.code.clone(),
                            fields: rc
                                .fields
                                .iter()
                                .map(|f| {
                                    (
                                        label(&form, f.field.trim_start_matches("fields.")),
                                        json_text(f.before.as_ref()),
                                        json_text(f.after.as_ref()),
                                    )
                                })
                                .collect(),
                        })
                        .collect(),
                )
            });
            let (form_code, type_name) = form_name(&state, &r.asset_type);
            reports.push(ReportBlock {
                type_code: r.asset_type.clone(),
                type_name,
                form_code,
                state: state_label(t, r.state),
                state_class: r.state.as_str(),
                submitted: r.state == ReportState::Submitted,
                why_not: o.why_not_review.replace("{s}", state_label(t, r.state)),
                nil_return: r.nil_return,
                records: vn_number(r.record_count as f64),
                original_cost: vn_money(r.original_cost),
                depreciation: vn_money(r.depreciation),
                remaining_value: vn_money(r.remaining_value),
                deadline: vn_date(r.deadline),
                overdue: r.overdue,
                extension: r.extension_deadline.map(|d| {
                    format!(
                        "{} ({})",
                        vn_date(d),
                        r.extension_reason.clone().unwrap_or_default()
                    )
                }),
                digest: r.digest.clone(),
                history,
                heads: keys.iter().map(|k| label(&form, k)).collect(),
                nums: keys
                    .iter()
                    .map(|k| {
                        form.field(k).is_some_and(|f| {
                            matches!(
                                f.kind,
                                crate::forms::FieldType::Money
                                    | crate::forms::FieldType::Decimal
                                    | crate::forms::FieldType::Integer
                                    | crate::forms::FieldType::Area
                                    | crate::forms::FieldType::LengthKm
                            )
                        })
                    })
                    .collect(),
                record_rows,
                more: page.total > RECORDS_SHOWN,
                changes,
                return_reason: (r.state == ReportState::Returned)
                    .then(|| r.return_reason.clone())
                    .flatten(),
                current_comments: if r.state == ReportState::Returned {
                    comments_with_codes(&codes, &r.return_comments)
                } else {
                    vec![]
                },
            });
        }
    }
    let accountant = [
        unit.accountant_name.clone(),
        unit.accountant_phone.clone(),
        unit.accountant_email.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let mut l = layout_for(&u, Some(unit.name.clone()));
    l.flash = match q.done.as_deref() {
        Some("returned") => Some(o.done_returned),
        Some("accepted") => Some(o.done_accepted),
        Some("extended") => Some(o.done_extended),
        _ => None,
    };
    html(&UnitPage {
        l,
        o,
        review: may_review(&u),
        unit_id,
        code: unit.code.clone(),
        name: unit.name.clone(),
        kind: kind_label(UnitKind::parse(&unit.kind)),
        accountant,
        decision_date: registration
            .as_ref()
            .and_then(|r| r.team_decision_date)
            .map(vn_date)
            .unwrap_or_default(),
        registered_at: registration
            .as_ref()
            .map(|r| vn_time(r.registered_at))
            .unwrap_or_default(),
        registered_on_time: registration.as_ref().is_some_and(|r| r.on_time),
        registration,
        reports,
        records_shown: o.records_shown.replace("{n}", &RECORDS_SHOWN.to_string()),
    })
}

// ---------------------------------------------------------------- actions

/// What the action pages show about the report they act on.
struct Target {
    unit_id: i64,
    unit_name: String,
    type_code: String,
    form_code: String,
    state: &'static str,
    allowed: bool,
    why_not: String,
    records: String,
    original_cost: String,
    remaining_value: String,
    digest: Option<String>,
}

async fn target(state: &AppState, u: &WebUser, unit_id: i64, type_code: &str) -> WebResult<Target> {
    let (t, o) = (t(), o());
    let unit_id = u.unit(state, unit_id).await?;
    let c = campaign_or_404(state).await?;
    let unit = units::get(&state.db, unit_id).await?;
    let r = reports::get(state, c.id, unit_id, type_code).await?;
    Ok(Target {
        unit_id,
        unit_name: unit.name,
        type_code: r.asset_type.clone(),
        form_code: r.form_code.clone(),
        state: state_label(t, r.state),
        allowed: r.state == ReportState::Submitted,
        why_not: o.why_not_review.replace("{s}", state_label(t, r.state)),
        records: vn_number(r.record_count as f64),
        original_cost: vn_money(r.original_cost),
        remaining_value: vn_money(r.remaining_value),
        digest: r.digest.clone(),
    })
}

#[derive(Template)]
#[template(path = "office_return.html")]
struct ReturnPage {
    l: Layout,
    o: &'static OfficeTexts,
    r: Target,
    codes: Vec<(String, String)>,
    reason: String,
    rows: Vec<(usize, String, String)>,
    errors: Vec<(String, String)>,
}

async fn return_form(
    state: &AppState,
    u: &WebUser,
    r: Target,
    reason: String,
    rows: Vec<(usize, String, String)>,
    errors: Vec<(String, String)>,
) -> WebResult {
    let c = campaign_or_404(state).await?;
    let codes = codes_by_id(state, c.id, r.unit_id, &r.type_code)
        .await?
        .into_iter()
        .map(|(_, code, name)| {
            let shown = format!("{code} — {name}");
            (code, shown)
        })
        .collect();
    let failed = !errors.is_empty();
    let mut res = html(&ReturnPage {
        l: layout_for(u, Some(r.unit_name.clone())),
        o: o(),
        r,
        codes,
        reason,
        rows,
        errors,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// `GET /units/{unit_id}/types/{type_code}/return`: the return form (its confirmation).
pub async fn return_page(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
) -> WebResult {
    let r = target(&state, &u, unit_id, &type_code).await?;
    let rows = (1..=COMMENT_ROWS)
        .map(|i| (i, String::new(), String::new()))
        .collect();
    return_form(&state, &u, r, String::new(), rows, vec![]).await
}

/// Problems of a domain error as (field, message) lines for a form page.
fn problems(e: &AppError) -> Vec<(String, String)> {
    let (_, doc) = e.to_problem(Lang::current());
    let mut out: Vec<(String, String)> = doc
        .errors
        .into_iter()
        .map(|f| (f.field, f.message))
        .collect();
    if out.is_empty() {
        out.push((String::new(), doc.detail));
    }
    out
}

/// `POST /units/{unit_id}/types/{type_code}/return`: the domain's return, with comments
/// chosen by asset code.
pub async fn return_report(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    RawForm(body): RawForm,
) -> WebResult {
    let f: BTreeMap<String, String> = parse_form(&body)?;
    let r = target(&state, &u, unit_id, &type_code).await?;
    let c = campaign_or_404(&state).await?;
    let codes = codes_by_id(&state, c.id, r.unit_id, &r.type_code).await?;
    let reason = f.get("reason").cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut comments = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    for i in 1..=COMMENT_ROWS {
        let code = f
            .get(&format!("code_{i}"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let comment = f
            .get(&format!("comment_{i}"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        rows.push((i, code.clone(), comment.clone()));
        match (code.is_empty(), comment.is_empty()) {
            (true, true) => {}
            (true, false) => errors.push(FieldError::new(
                format!("code_{i}"),
                "required",
                office_text::VI.comment_needs_code,
                office_text::EN.comment_needs_code,
            )),
            (false, true) => errors.push(FieldError::new(
                format!("comment_{i}"),
                "required",
                office_text::VI.code_needs_comment,
                office_text::EN.code_needs_comment,
            )),
            (false, false) => match codes.iter().find(|(_, c, _)| *c == code) {
                Some((id, _, _)) => comments.push(ReturnComment {
                    asset_id: Some(*id),
                    asset_code: None,
                    comment,
                }),
                None => errors.push(FieldError::new(
                    format!("code_{i}"),
                    "not_found",
                    office_text::VI.code_not_in_report,
                    office_text::EN.code_not_in_report,
                )),
            },
        }
    }
    let req = ReturnRequest {
        reason: reason.trim().to_string(),
        comments,
    };
    if let Err(e) = req.validate() {
        errors.extend(crate::error::flatten(&e));
    }
    let result = if errors.is_empty() {
        reports::return_report(&state, &u.actor, c.id, r.unit_id, &r.type_code, &req)
            .await
            .map(|_| ())
    } else {
        Err(AppError::validation(errors))
    };
    match result {
        Ok(()) => Ok(redirect_see_other(&format!(
            "/units/{}?done=returned",
            r.unit_id
        ))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::CONFLICT => {
            let problems = problems(&e);
            return_form(&state, &u, r, reason, rows, problems).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "office_accept.html")]
struct AcceptPage {
    l: Layout,
    o: &'static OfficeTexts,
    r: Target,
}

/// `GET /units/{unit_id}/types/{type_code}/accept`: asks for confirmation.
pub async fn accept_page(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
) -> WebResult {
    let r = target(&state, &u, unit_id, &type_code).await?;
    html(&AcceptPage {
        l: layout_for(&u, Some(r.unit_name.clone())),
        o: o(),
        r,
    })
}

/// `POST /units/{unit_id}/types/{type_code}/accept`: the domain's acceptance.
pub async fn accept(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
) -> WebResult {
    let unit_id = u.unit(&state, unit_id).await?;
    let c = campaign_or_404(&state).await?;
    reports::accept(&state, &u.actor, c.id, unit_id, &type_code).await?;
    Ok(redirect_see_other(&format!(
        "/units/{unit_id}?done=accepted"
    )))
}

#[derive(Template)]
#[template(path = "office_extension.html")]
struct ExtensionPage {
    l: Layout,
    o: &'static OfficeTexts,
    unit_id: i64,
    current: String,
    deadline: String,
    reason: String,
    errors: Vec<(String, String)>,
}

/// `GET /units/{unit_id}/extension`: the extension form.
pub async fn extension_page(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
) -> WebResult {
    let unit_id = u.unit(&state, unit_id).await?;
    let c = campaign_or_404(&state).await?;
    let unit = units::get(&state.db, unit_id).await?;
    html(&ExtensionPage {
        l: layout_for(&u, Some(unit.name)),
        o: o(),
        unit_id,
        current: vn_date(c.submission_deadline),
        deadline: String::new(),
        reason: String::new(),
        errors: vec![],
    })
}

#[derive(Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    reason: String,
}

/// `POST /units/{unit_id}/extension`: the domain's extension.
pub async fn extend(
    State(state): State<AppState>,
    u: WebUser,
    Path(unit_id): Path<i64>,
    RawForm(body): RawForm,
) -> WebResult {
    let f: ExtensionForm = parse_form(&body)?;
    let unit_id = u.unit(&state, unit_id).await?;
    let c = campaign_or_404(&state).await?;
    let date = NaiveDate::parse_from_str(f.deadline.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(f.deadline.trim(), "%d/%m/%Y"));
    let result = match date {
        Err(_) => Err(AppError::field(
            "deadline",
            "invalid",
            office_text::VI.bad_date,
            office_text::EN.bad_date,
        )),
        Ok(deadline) => {
            let req = ExtensionRequest {
                deadline,
                reason: f.reason.trim().to_string(),
            };
            match req.validate() {
                Err(e) => Err(AppError::validation(crate::error::flatten(&e))),
                Ok(()) => reports::grant_extension(&state, &u.actor, c.id, unit_id, &req)
                    .await
                    .map(|_| ()),
            }
        }
    };
    match result {
        Ok(()) => Ok(redirect_see_other(&format!(
            "/units/{unit_id}?done=extended"
        ))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let unit = units::get(&state.db, unit_id).await?;
            let mut res = html(&ExtensionPage {
                l: layout_for(&u, Some(unit.name)),
                o: o(),
                unit_id,
                current: vn_date(c.submission_deadline),
                deadline: f.deadline,
                reason: f.reason,
                errors: problems(&e),
            })?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- summary, reminders, downloads

#[derive(Template)]
#[template(path = "office_summary.html")]
struct SummaryPage {
    l: Layout,
    o: &'static OfficeTexts,
    review: bool,
    lines: Vec<String>,
    text: String,
    as_of: String,
    figures: Vec<(&'static str, String)>,
    place: Option<Place>,
}

/// `GET /summary`: the paragraph for the quarterly report, with a copy button and its figures.
pub async fn summary(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let o = o();
    let c = campaign_or_404(&state).await?;
    let rs = replica::reader(&state, &u.actor).await;
    let v = progress::view(&rs, &u.actor, parse_node(q.node.as_deref())).await?;
    let (s, b) = progress::summary_and_board_of(&rs, &v, c.id).await?;
    let registered = b.registered_on_time + b.registered_late;
    let mut figures = vec![
        (o.units_in_scope, b.units_total.to_string()),
        (
            o.teams_established,
            format!("{}/{}", b.teams_established, b.units_total),
        ),
        (
            o.registered,
            format!(
                "{}/{}/{}",
                b.registered_on_time, b.registered_late, b.not_registered
            ),
        ),
        (o.obligations, b.obligations.to_string()),
        (o.sent_on_time, b.submitted_on_time.to_string()),
        (o.sent_late, b.submitted_late.to_string()),
        (o.overdue_reports, b.overdue.to_string()),
        (
            o.units_complete,
            format!("{}/{registered}", b.units_fully_submitted),
        ),
    ];
    for (ty, n) in &b.registrations_by_type {
        let (form, name) = form_name(&state, ty);
        figures.push((o.registrations_by_type, format!("{form} ({name}): {n}")));
    }
    html(&SummaryPage {
        l: layout_for(&u, None),
        o,
        review: may_review(&u),
        lines: s.text.lines().map(str::to_string).collect(),
        text: s.text.clone(),
        as_of: vn_time(s.as_of),
        figures,
        place: place(&state, &u, &v, "/summary").await?,
    })
}

struct ReminderView {
    unit_id: i64,
    code: String,
    name: String,
    contact: String,
    owed: Vec<(String, &'static str, String, String, bool)>,
    message: String,
}

#[derive(Template)]
#[template(path = "office_reminders.html")]
struct RemindersPage {
    l: Layout,
    o: &'static OfficeTexts,
    review: bool,
    reminders: Vec<ReminderView>,
    all: String,
    place: Option<Place>,
}

/// `GET /reminders`: the units that still owe a report, each with a ready message.
pub async fn reminders(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let (t, o) = (t(), o());
    let c = campaign_or_404(&state).await?;
    let rs = replica::reader(&state, &u.actor).await;
    let v = progress::view(&rs, &u.actor, parse_node(q.node.as_deref())).await?;
    let list = progress::reminders_of(&rs, &v, c.id, None).await?;
    let reminders: Vec<ReminderView> = list
        .iter()
        .map(|r| ReminderView {
            unit_id: r.unit_id,
            code: r.code.clone(),
            name: r.name.clone(),
            contact: [
                r.accountant_name.clone(),
                r.accountant_phone.clone(),
                r.accountant_email.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
            owed: r
                .owed
                .iter()
                .map(|ow| {
                    (
                        ow.form_code.clone(),
                        state_label(t, ow.state),
                        vn_date(ow.deadline),
                        due_text(t, ow.days_left),
                        ow.days_left < 0,
                    )
                })
                .collect(),
            message: progress::reminder_message(r),
        })
        .collect();
    let all = reminders
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    html(&RemindersPage {
        l: layout_for(&u, None),
        o,
        review: may_review(&u),
        reminders,
        all,
        place: place(&state, &u, &v, "/reminders").await?,
    })
}

#[derive(Template)]
#[template(path = "office_downloads.html")]
struct DownloadsPage {
    l: Layout,
    o: &'static OfficeTexts,
    review: bool,
    forms: Vec<(String, String)>,
    /// `?node=…` for every link (empty: the caller's own node).
    node: String,
    place: Option<Place>,
}

/// `GET /downloads`: progress.xlsx, the consolidated report of each registered form, and the
/// zip of every unit's official form of a type — of the node chosen (`?node=`, as on the board).
pub async fn downloads(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    let rs = replica::reader(&state, &u.actor).await;
    let node = parse_node(q.node.as_deref());
    let v = progress::view(&rs, &u.actor, node).await?;
    let b = progress::board_of(
        &rs,
        &v,
        c.id,
        &ProgressFilter::default(),
        &PageQuery {
            page: Some(1),
            per_page: Some(1),
        },
        None,
    )
    .await?;
    let forms = b
        .registrations_by_type
        .keys()
        .map(|ty| form_name(&state, ty))
        .collect();
    html(&DownloadsPage {
        l: layout_for(&u, None),
        o: o(),
        review: may_review(&u),
        forms,
        node: node.map(|n| format!("?node={n}")).unwrap_or_default(),
        place: place(&state, &u, &v, "/downloads").await?,
    })
}

/// `GET /downloads/progress.xlsx` (`?node=` as on the board).
pub async fn progress_xlsx(
    State(state): State<AppState>,
    u: WebUser,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    let v = progress::view(&state, &u.actor, parse_node(q.node.as_deref())).await?;
    let wb = workbooks::progress_sheet(&state, &u.actor, &v, c.id).await?;
    Ok(wb.into_response())
}

/// `GET /downloads/consolidated/{form_code}` (`?node=` as on the board).
pub async fn consolidated(
    State(state): State<AppState>,
    u: WebUser,
    Path(form_code): Path<String>,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    let v = progress::view(&state, &u.actor, parse_node(q.node.as_deref())).await?;
    let wb = workbooks::consolidated(&state, &u.actor, &v, c.id, &form_code).await?;
    Ok(wb.into_response())
}

/// `GET /downloads/forms/{form_code}`: every unit's official form under the node (`?node=`),
/// streamed as one zip.
pub async fn forms_zip(
    State(state): State<AppState>,
    u: WebUser,
    Path(form_code): Path<String>,
    Query(q): Query<NodeParam>,
) -> WebResult {
    let c = campaign_or_404(&state).await?;
    let v = progress::view(&state, &u.actor, parse_node(q.node.as_deref())).await?;
    let z = workbooks::forms_zip(&state, &u.actor, &v, c.id, &form_code).await?;
    Ok(workbooks::attachment(
        workbooks::stream_body(z.chunks),
        &z.file_name,
        "application/zip",
    ))
}

/// Whether a role reads the office pages (the chairman included).
pub fn is_office(role: Role) -> bool {
    super::OFFICE.contains(&role) && role != Role::Admin
}
