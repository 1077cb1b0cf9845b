//! The finance office's view of a campaign: who registered, who sent, who is late.
//!
//! Every count is computed from the obligations — one report per unit and
//! registered asset type — so no count can exceed the number of obligations, and
//! the report counters it sums are maintained in the same transactions as the records.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, ExprTrait, FromQueryResult,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, LikeExpr, Query},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    auth::{Actor, Scope},
    campaigns, clock,
    entities::{admin_node, campaign, registration, report, unit},
    error::{AppError, AppResult},
    numfmt,
    pagination::PageQuery,
    reports::{self, ReportState, StoredState},
    search,
    state::AppState,
    tree::{self, Level},
    units::{self, UnitKind},
};

/// Filters of the unit rows (the counts always cover the whole campaign).
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressFilter {
    /// Only reports in this state.
    pub state: Option<ReportState>,
    /// Only reports of this asset type.
    #[validate(length(equal = 2))]
    #[param(pattern = "^[0-9]{2}$")]
    pub asset_type: Option<String>,
    /// `true`: only overdue reports.
    pub overdue: Option<bool>,
    /// Only units whose code or name contains this text (diacritics and case ignored).
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only units of this kind.
    pub kind: Option<UnitKind>,
    /// Order of the unit rows (default: by code).
    pub sort: Option<UnitSort>,
}

/// Orders of the board's unit rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitSort {
    /// By budget code (default).
    #[default]
    Code,
    /// By budget code, descending.
    CodeDesc,
    /// By name.
    Name,
    /// By name, descending.
    NameDesc,
}

impl UnitSort {
    /// Every order, as the pages offer them.
    pub const ALL: [UnitSort; 4] = [
        UnitSort::Code,
        UnitSort::CodeDesc,
        UnitSort::Name,
        UnitSort::NameDesc,
    ];

    /// Name in a query string.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitSort::Code => "code",
            UnitSort::CodeDesc => "code_desc",
            UnitSort::Name => "name",
            UnitSort::NameDesc => "name_desc",
        }
    }
}

/// One report in a unit's row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowReport {
    /// Asset type.
    pub asset_type: String,
    /// Form.
    pub form_code: String,
    /// State.
    pub state: ReportState,
    /// Nil return.
    pub nil_return: bool,
    /// Latest submission (UTC).
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether the first submission met the deadline (`None` while never sent).
    pub on_time: Option<bool>,
    /// Deadline passed and not sent.
    pub overdue: bool,
    /// Deadline in force.
    pub deadline: NaiveDate,
    /// Records.
    pub record_count: i64,
    /// Original cost, đồng.
    pub original_cost: i64,
    /// Remaining value, đồng.
    pub remaining_value: i64,
}

/// One unit's row on the board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitRow {
    /// Unit id.
    pub unit_id: i64,
    /// Budget relationship code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether the unit registered.
    pub registered: bool,
    /// Registration instant (UTC).
    pub registered_at: Option<DateTime<Utc>>,
    /// Registered by the deadline.
    pub registered_on_time: Option<bool>,
    /// Accountant's e-mail (for reminders).
    pub accountant_email: Option<String>,
    /// Accountant's phone.
    pub accountant_phone: Option<String>,
    /// Kind of unit.
    pub kind: UnitKind,
    /// Days the most overdue of its reports is past its deadline (`None`: none overdue).
    pub days_overdue: Option<i64>,
    /// Last change to any of its reports or their records (UTC).
    pub last_activity: Option<DateTime<Utc>>,
    /// The unit's reports.
    pub reports: Vec<RowReport>,
}

/// Money and record totals of one asset type.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct TypeTotal {
    /// Records.
    pub record_count: i64,
    /// Original cost, đồng.
    pub original_cost: i64,
    /// Remaining value, đồng.
    pub remaining_value: i64,
}

/// The progress board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Board {
    /// Campaign.
    pub campaign_id: i64,
    /// When the board was computed (UTC).
    pub as_of: DateTime<Utc>,
    /// The campaign's submission deadline.
    pub submission_deadline: NaiveDate,
    /// Local days left until the end of the deadline day (negative once passed).
    pub days_left: i64,
    /// Units in scope: active units and any unit that registered.
    pub units_total: i64,
    /// Units that set up an inventory team (registered with a team).
    pub teams_established: i64,
    /// Units registered by the deadline.
    pub registered_on_time: i64,
    /// Units registered after the deadline.
    pub registered_late: i64,
    /// Units in scope that have not registered.
    pub not_registered: i64,
    /// Units per registered asset type, e.g. `{"01": 16, "02": 1, "18": 1}`.
    pub registrations_by_type: BTreeMap<String, i64>,
    /// Reports owed (units × registered types).
    pub obligations: i64,
    /// Reports per state (sums to `obligations`).
    pub reports_by_state: BTreeMap<String, i64>,
    /// Reports per asset type and state (every state present, zeros included).
    pub states_by_type: BTreeMap<String, BTreeMap<String, i64>>,
    /// Reports sent (submitted or accepted) whose first submission met the deadline.
    pub submitted_on_time: i64,
    /// Reports sent whose first submission was late.
    pub submitted_late: i64,
    /// Reports not sent whose deadline has passed.
    pub overdue: i64,
    /// Units whose every report is sent.
    pub units_fully_submitted: i64,
    /// Totals per asset type.
    pub totals_by_type: BTreeMap<String, TypeTotal>,
    /// Unit rows matching the filters, this page.
    pub rows: Vec<UnitRow>,
    /// Unit rows matching the filters, all pages.
    pub rows_total: u64,
    /// Page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// The last row's code when more rows follow: pass it as `after=` for the next page.
    pub next_after: Option<String>,
    /// The node shown (`None`: the whole installation).
    pub node: Option<NodeRef>,
    /// The node and its ancestors, province first (the breadcrumb; empty installation-wide).
    pub path: Vec<NodeRef>,
    /// The level of `areas`: `ward` on a province's board, `province` on the installation's
    /// (`None`: no roll-up — a ward, or an installation with no tree).
    pub rollup: Option<Level>,
    /// One row per ward of the province, or per province of the installation (then also a
    /// row for the units not yet placed in the tree, if any): their counts sum to the board's.
    /// The unit rows above list the units under the node, as on a ward's board.
    pub areas: Vec<AreaRow>,
}

// ---------------------------------------------------------------- which part of the tree

/// `?node=` of the board, summary, reminders and progress workbook.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NodeQuery {
    /// The node of the administrative tree to show: a province (one row per ward) or a ward
    /// (its units), inside the caller's scope (else 404). Default: the caller's own node; for
    /// an installation-wide account, one row per province (or, with no tree, every unit).
    #[validate(range(min = 1))]
    #[param(minimum = 1)]
    pub node: Option<i64>,
}

/// A node of the tree as a board names it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct NodeRef {
    /// Node id (pass it as `node=`).
    pub id: i64,
    /// Official code (province 2 digits, commune/ward 5 digits).
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
}

impl NodeRef {
    fn of(n: &admin_node::Model) -> NodeRef {
        NodeRef {
            id: n.id,
            code: n.code.clone(),
            name: n.name.clone(),
            level: Level::parse(&n.level).unwrap_or(Level::Ward),
        }
    }
}

/// What a board covers: its units, where it sits in the tree, and how it rolls up.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// The units covered: [`Scope::All`], [`Scope::Province`] or [`Scope::Ward`].
    pub area: Scope,
    /// The node shown and its ancestors, province first (empty: the whole installation).
    pub path: Vec<NodeRef>,
    /// The level of the roll-up rows: wards of a province, provinces of the installation;
    /// `None`: unit rows only (a ward, or an installation with no tree).
    pub rollup: Option<Level>,
}

impl View {
    /// The whole installation, unit rows only: the board of a one-ward installation (and of
    /// the command line and the benchmarks).
    pub fn installation() -> View {
        View {
            area: Scope::All,
            path: vec![],
            rollup: None,
        }
    }

    /// The node shown (`None`: the whole installation).
    pub fn node(&self) -> Option<&NodeRef> {
        self.path.last()
    }

    /// Whether the units covered are a part of the installation (a province's or a ward's).
    fn scoped(&self) -> bool {
        self.area != Scope::All
    }

    /// Whether the counts are read through the units (filtered by node, or grouped by one).
    fn through_units(&self) -> bool {
        self.scoped() || self.rollup.is_some()
    }

    /// The roll-up rows' key for rows of the table aliased `t` (a constant without roll-up). A
    /// ward is read from the unit (`units u`); a province from `t.province_id` itself — the
    /// distribution key every large table carries, kept in step with its unit's — so that the
    /// installation's board by province reads no join.
    fn key(&self, t: &str) -> String {
        match self.rollup {
            Some(Level::Ward) => "u.ward_id".into(),
            Some(Level::Province) => format!("{t}.province_id"),
            None => "CAST(NULL AS BIGINT)".into(),
        }
    }

    /// `GROUP BY` the key of [`View::key`], after other columns (`more`: whether some precede it).
    fn group_by(&self, t: &str, more: bool) -> String {
        match (self.rollup, more) {
            (None, _) => String::new(),
            (Some(_), true) => format!(", {}", self.key(t)),
            (Some(_), false) => format!(" GROUP BY {}", self.key(t)),
        }
    }

    /// Whether rows of a table under the units are joined to `units u`: to filter by the area,
    /// and to group by ward. (The installation's roll-up groups by `province_id`, on every table.)
    fn joins_units(&self) -> bool {
        self.scoped()
    }

    /// ` AND` the area's condition on `units u` (nothing installation-wide).
    fn push_area(&self, q: &mut Sql) {
        match self.area {
            Scope::Province(id) => {
                q.push(" AND u.province_id = ").bind(id);
            }
            Scope::Ward(id) => {
                q.push(" AND u.ward_id = ").bind(id);
            }
            Scope::All | Scope::Units(_) => {}
        }
    }

    /// ` AND` a province's condition on the table aliased `t` itself, beside the one on its units
    /// ([`View::push_area`]): with it a province's board reads only the province's reports and
    /// registrations from their `(campaign_id, province_id, …)` indexes, never the whole
    /// campaign's (a ward's 30 units are fewer than its province's rows: joined from the units).
    fn push_key(&self, q: &mut Sql, t: &str) {
        if let Scope::Province(id) = self.area {
            q.push(&format!(" AND {t}.province_id = ")).bind(id);
        }
    }

    /// The area as a condition on `units` (sea-query).
    fn unit_condition(&self) -> Option<Condition> {
        self.scoped().then(|| units::scope_condition(&self.area))
    }

    /// The units covered, as a condition on `units` (every unit installation-wide): what the
    /// node's workbooks list.
    pub fn units_condition(&self) -> Condition {
        units::scope_condition(&self.area)
    }

    /// The roll-up row a unit falls in, by its `ward_id` and `province_id`: its ward on a
    /// province's board, its province on the installation's (`None`: no roll-up, or the unit
    /// is not yet placed).
    pub fn area_of(&self, ward_id: Option<i64>, province_id: Option<i64>) -> Option<i64> {
        match self.rollup {
            Some(Level::Ward) => ward_id,
            Some(Level::Province) => province_id,
            None => None,
        }
    }
}

/// The nodes of a view's roll-up rows, in code order: a province's wards, the installation's
/// provinces (none without roll-up). The board's `areas` are these, plus on the installation's
/// a row for the units not yet placed.
pub async fn area_nodes(db: &DatabaseConnection, v: &View) -> AppResult<Vec<NodeRef>> {
    Ok(match v.rollup {
        Some(_) => tree::children(db, v.node().map(|n| n.id))
            .await?
            .iter()
            .map(NodeRef::of)
            .collect(),
        None => vec![],
    })
}

fn node_not_found() -> AppError {
    AppError::not_found("địa bàn", "Node")
}

/// The view a caller asks for with `node`: the node must lie inside the caller's scope (a
/// province officer sees the province and its wards, a ward officer the ward) — else 404, as
/// for any URL naming something outside it. Without `node`: the caller's own node; for an
/// installation-wide account, one row per province, or every unit while there is no tree.
pub async fn view(state: &AppState, actor: &Actor, node: Option<i64>) -> AppResult<View> {
    let db = &state.db;
    let id = match (node, &actor.scope) {
        (Some(id), _) => id,
        (None, Scope::Province(id) | Scope::Ward(id)) => *id,
        (None, Scope::All) => {
            let provinces = admin_node::Entity::find()
                .filter(admin_node::Column::Level.eq(Level::Province.as_str()))
                .count(db)
                .await?;
            return Ok(View {
                rollup: (provinces > 0).then_some(Level::Province),
                ..View::installation()
            });
        }
        (None, Scope::Units(_)) => return Err(AppError::forbidden()),
    };
    let n = tree::find(db, id).await?.ok_or_else(node_not_found)?;
    let inside = match &actor.scope {
        Scope::All => true,
        Scope::Province(p) => n.id == *p || n.parent_id == Some(*p),
        Scope::Ward(w) => n.id == *w,
        Scope::Units(_) => false,
    };
    if !inside {
        return Err(node_not_found());
    }
    let mut path = vec![NodeRef::of(&n)];
    if let Some(p) = n.parent_id
        && let Some(parent) = tree::find(db, p).await?
    {
        path.insert(0, NodeRef::of(&parent));
    }
    Ok(match Level::parse(&n.level) {
        Some(Level::Province) => View {
            area: Scope::Province(n.id),
            path,
            rollup: Some(Level::Ward),
        },
        _ => View {
            area: Scope::Ward(n.id),
            path,
            rollup: None,
        },
    })
}

/// The board of `node` (default: the caller's own) at its first page, unfiltered: what the
/// board page opens on, and what the national-scale benchmark measures (a ward's units, a
/// province's wards, the installation's provinces).
pub async fn rollup(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    node: Option<i64>,
) -> AppResult<Board> {
    let v = view(state, actor, node).await?;
    board_of(
        state,
        &v,
        campaign_id,
        &ProgressFilter::default(),
        &PageQuery {
            page: None,
            per_page: None,
        },
        None,
    )
    .await
}

/// One row of a roll-up board: a ward of a province, or a province of the installation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AreaRow {
    /// The ward or province (`None`: the units not yet placed in the tree, "Chưa xếp địa bàn").
    pub node: Option<NodeRef>,
    /// Units in scope.
    pub units_total: i64,
    /// Units that set up an inventory team.
    pub teams_established: i64,
    /// Units registered by the deadline.
    pub registered_on_time: i64,
    /// Units registered after the deadline.
    pub registered_late: i64,
    /// Units that have not registered.
    pub not_registered: i64,
    /// Reports owed.
    pub obligations: i64,
    /// Reports per state (sums to `obligations`).
    pub reports_by_state: BTreeMap<String, i64>,
    /// Reports sent whose first submission met the deadline.
    pub submitted_on_time: i64,
    /// Reports sent whose first submission was late.
    pub submitted_late: i64,
    /// Reports not sent whose deadline has passed.
    pub overdue: i64,
    /// Units whose every report is sent.
    pub units_fully_submitted: i64,
    /// Every report owed is accepted (and at least one is owed): the ward's finance office
    /// has accepted everything ("đã duyệt hết").
    pub accepted_all: bool,
    /// When the last of them was accepted (UTC), once every one is.
    pub accepted_at: Option<DateTime<Utc>>,
}

fn row_report(c: &campaign::Model, r: &report::Model, now: DateTime<Utc>) -> RowReport {
    RowReport {
        asset_type: r.type_code.clone(),
        form_code: r.form_code.clone(),
        state: ReportState::of(r),
        nil_return: r.nil_return,
        submitted_at: r.submitted_at,
        on_time: reports::sent_on_time(c, r),
        overdue: reports::is_overdue(c, r, now),
        deadline: reports::deadline(c, r),
        record_count: r.record_count,
        original_cost: r.original_cost_total,
        remaining_value: r.remaining_value_total,
    }
}

/// SQL text with positional parameters in the backend's syntax (`?` or `$n`).
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<sea_orm::Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Sql {
            backend,
            text: String::new(),
            values: vec![],
        }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, v: impl Into<sea_orm::Value>) -> &mut Self {
        self.values.push(v.into());
        if self.backend == DbBackend::Postgres {
            self.text.push_str(&format!("${}", self.values.len()));
        } else {
            self.text.push('?');
        }
        self
    }

    fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, &self.text, self.values.clone())
    }
}

/// The campaign's reports, counted per type, stored state and extension.
#[derive(Debug, FromQueryResult)]
struct ReportGroup {
    /// The roll-up row it belongs to (the ward or province id; `None` without roll-up, or for
    /// the units not yet placed).
    area: Option<i64>,
    type_code: String,
    state: StoredState,
    extension_deadline: Option<NaiveDate>,
    n: i64,
    /// Of which holding at least one record (an `open` report is then a draft).
    with_records: i64,
    first_on_time: i64,
    record_count: i64,
    original_cost: i64,
    remaining_value: i64,
    /// The last acceptance among them.
    last_accepted: Option<DateTime<Utc>>,
}

/// `FROM reports r`, joined to its unit when the view needs it, `WHERE` the campaign and the
/// view's area.
fn push_reports_in(q: &mut Sql, v: &View, campaign_id: i64) {
    q.push(" FROM reports r");
    if v.joins_units() {
        q.push(" JOIN units u ON u.id = r.unit_id");
    }
    q.push(" WHERE r.campaign_id = ").bind(campaign_id);
    v.push_area(q);
    v.push_key(q, "r");
}

/// Counts the campaign's reports in one pass. Whether a first submission met its deadline is
/// decided in SQL against the instants at which each deadline in force ends (computed here, in
/// Vietnam time, for the campaign's deadline and for every extension granted).
async fn report_groups(
    db: &DatabaseConnection,
    v: &View,
    c: &campaign::Model,
) -> AppResult<Vec<ReportGroup>> {
    let extensions: Vec<NaiveDate> = report::Entity::find()
        .select_only()
        .column(report::Column::ExtensionDeadline)
        .distinct()
        .filter(report::Column::CampaignId.eq(c.id))
        .filter(report::Column::ExtensionDeadline.is_not_null())
        .into_tuple::<Option<NaiveDate>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT ").push(&v.key("r")).push(
        " AS area, r.type_code AS type_code, r.state AS state, \
         r.extension_deadline AS extension_deadline, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN r.record_count > 0 THEN 1 ELSE 0 END) AS BIGINT) AS with_records, \
         CAST(SUM(CASE WHEN r.first_submitted_at < ",
    );
    if extensions.is_empty() {
        q.bind(clock::deadline_end(c.submission_deadline));
    } else {
        q.push("(CASE WHEN r.extension_deadline IS NULL THEN ")
            .bind(clock::deadline_end(c.submission_deadline));
        for d in &extensions {
            q.push(" WHEN r.extension_deadline = ")
                .bind(*d)
                .push(" THEN ")
                .bind(clock::deadline_end(*d));
        }
        q.push(" END)");
    }
    q.push(
        " THEN 1 ELSE 0 END) AS BIGINT) AS first_on_time, \
         CAST(SUM(r.record_count) AS BIGINT) AS record_count, \
         CAST(SUM(r.original_cost_total) AS BIGINT) AS original_cost, \
         CAST(SUM(r.remaining_value_total) AS BIGINT) AS remaining_value, \
         MAX(r.accepted_at) AS last_accepted",
    );
    push_reports_in(&mut q, v, c.id);
    q.push(" GROUP BY r.type_code, r.state, r.extension_deadline")
        .push(&v.group_by("r", true));
    Ok(ReportGroup::find_by_statement(q.statement())
        .all(db)
        .await?)
}

/// Registrations: how many, how many by the deadline, how many with a team.
#[derive(Debug, Default, FromQueryResult)]
struct RegistrationCounts {
    area: Option<i64>,
    registered: i64,
    on_time: i64,
    teams: i64,
}

/// One count.
#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

/// One count per roll-up row (`area`: the ward or province; `None` without roll-up).
#[derive(Debug, FromQueryResult)]
struct AreaCount {
    area: Option<i64>,
    n: i64,
}

/// The sum of the counts of one roll-up row, or of all of them (`None`).
fn sum_of(counts: &[AreaCount], area: Option<Option<i64>>) -> i64 {
    counts
        .iter()
        .filter(|c| area.is_none_or(|a| c.area == a))
        .map(|c| c.n)
        .sum()
}

async fn count(db: &DatabaseConnection, q: &Sql) -> AppResult<i64> {
    Ok(Count::find_by_statement(q.statement())
        .one(db)
        .await?
        .map_or(0, |c| c.n))
}

async fn registration_counts(
    db: &DatabaseConnection,
    v: &View,
    c: &campaign::Model,
) -> AppResult<Vec<RegistrationCounts>> {
    let backend = db.get_database_backend();
    let no_team = if backend == DbBackend::Postgres {
        "jsonb_typeof(team_members) <> 'array' OR team_members = '[]'::jsonb"
    } else {
        "json_type(team_members) <> 'array' OR json_array_length(team_members) = 0"
    };
    if v.through_units() {
        // A ward's or a province's registrations, read through its units (indexed by ward
        // and province), counted per roll-up row; the installation's, per province.
        let mut q = Sql::new(backend);
        q.push("SELECT ")
            .push(&v.key("g"))
            .push(
                " AS area, CAST(COUNT(*) AS BIGINT) AS registered, \
                 CAST(COALESCE(SUM(CASE WHEN g.registered_at < ",
            )
            .bind(clock::deadline_end(c.registration_deadline))
            .push(
                " THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, \
                 CAST(COUNT(*) - COALESCE(SUM(CASE WHEN ",
            )
            .push(&no_team.replace("team_members", "g.team_members"))
            .push(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS teams FROM registrations g");
        if v.joins_units() {
            q.push(" JOIN units u ON u.id = g.unit_id");
        }
        q.push(" WHERE g.campaign_id = ").bind(c.id);
        v.push_area(&mut q);
        v.push_key(&mut q, "g");
        q.push(&v.group_by("g", false));
        return Ok(RegistrationCounts::find_by_statement(q.statement())
            .all(db)
            .await?);
    }
    // Both read the index on (campaign_id, registered_at) only.
    let mut q = Sql::new(backend);
    q.push("SELECT CAST(NULL AS BIGINT) AS area, CAST(COUNT(*) AS BIGINT) AS registered, CAST(COALESCE(SUM(CASE WHEN registered_at < ")
        .bind(clock::deadline_end(c.registration_deadline))
        .push(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, CAST(0 AS BIGINT) AS teams \
               FROM registrations WHERE campaign_id = ")
        .bind(c.id);
    // A team is established when `team_members` is a non-empty JSON array. Those without one
    // are counted from a partial index: the condition below is, word for word, the predicate of
    // `ix_registrations_no_team` (migration m20261126_000001_progress_indexes).
    let mut t = Sql::new(backend);
    t.push("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM registrations WHERE campaign_id = ")
        .bind(c.id)
        .push(" AND (")
        .push(no_team)
        .push(")");
    let (counts, without_team) = tokio::try_join!(
        async {
            AppResult::Ok(
                RegistrationCounts::find_by_statement(q.statement())
                    .one(db)
                    .await?
                    .unwrap_or_default(),
            )
        },
        count(db, &t),
    )?;
    Ok(vec![RegistrationCounts {
        teams: counts.registered - without_team,
        ..counts
    }])
}

/// Units in scope: the active ones, plus the inactive ones that registered (each of the few
/// inactive units is looked up in the registrations; see [`has_report`] for the `LIMIT 1`).
async fn units_in_scope(
    db: &DatabaseConnection,
    v: &View,
    campaign_id: i64,
) -> AppResult<Vec<AreaCount>> {
    let mut q = Sql::new(db.get_database_backend());
    if v.through_units() {
        // A ward's or a province's units, read from the index on `ward_id` / `province_id`;
        // the installation's, per province. Two counts per row, summed by `sum_of`: the active
        // units, and the few inactive ones that registered. (Written as one `active OR EXISTS`,
        // PostgreSQL hashed the campaign's registrations for every unit, and the plan's cost
        // made it JIT-compile the query: 250 ms at 100,000 units instead of 44.)
        q.push("SELECT ")
            .push(&v.key("u"))
            .push(" AS area, CAST(COUNT(*) AS BIGINT) AS n FROM units u WHERE u.active = ")
            .bind(true);
        v.push_area(&mut q);
        q.push(&v.group_by("u", false))
            .push(" UNION ALL SELECT ")
            .push(&v.key("u"))
            .push(" AS area, CAST(COUNT(*) AS BIGINT) AS n FROM units u WHERE u.active = ")
            .bind(false)
            .push(" AND EXISTS (SELECT 1 FROM registrations g WHERE g.campaign_id = ")
            .bind(campaign_id)
            .push(" AND g.unit_id = u.id)");
        v.push_area(&mut q);
        q.push(&v.group_by("u", false));
        return Ok(AreaCount::find_by_statement(q.statement()).all(db).await?);
    }
    q.push("SELECT CAST((SELECT COUNT(*) FROM units WHERE active = ")
        .bind(true)
        .push(") + (SELECT COUNT(*) FROM units WHERE active = ")
        .bind(false)
        .push(" AND EXISTS (SELECT 1 FROM registrations WHERE campaign_id = ")
        .bind(campaign_id)
        .push(" AND unit_id = units.id LIMIT 1)) AS BIGINT) AS n");
    Ok(vec![AreaCount {
        area: None,
        n: count(db, &q).await?,
    }])
}

/// Units with at least one report, every one of them sent (read from the index on
/// `(campaign_id, unit_id, state)`, in unit order).
async fn units_fully_submitted(
    db: &DatabaseConnection,
    v: &View,
    campaign_id: i64,
) -> AppResult<Vec<AreaCount>> {
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT t.area AS area, CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT ")
        .push(&v.key("r"))
        .push(" AS area, r.unit_id");
    push_reports_in(&mut q, v, campaign_id);
    // The roll-up key first: on the installation's board by province the groups then come in
    // the order of `ix_reports_campaign_province_unit_state`, read from the index alone.
    q.push(&v.group_by("r", false))
        .push(if v.rollup.is_some() {
            ", "
        } else {
            " GROUP BY "
        })
        .push("r.unit_id")
        .push(&format!(
            " HAVING MIN(CASE WHEN r.state IN ({}) THEN 1 ELSE 0 END) = 1) t GROUP BY t.area",
            StoredState::sql_list(&StoredState::SENT)
        ));
    Ok(AreaCount::find_by_statement(q.statement()).all(db).await?)
}

/// Units in scope of a campaign: active units and any unit that registered. Written as
/// "active, or among the few inactive units that registered", so that a page of rows walks the
/// code index and never looks at the campaign's 100,000 registrations.
fn in_scope(campaign_id: i64) -> Condition {
    Condition::any().add(unit::Column::Active.eq(true)).add(
        unit::Column::Id.in_subquery(
            Query::select()
                .column(registration::Column::UnitId)
                .from(registration::Entity)
                .and_where(registration::Column::CampaignId.eq(campaign_id))
                .and_where(
                    registration::Column::UnitId.in_subquery(
                        Query::select()
                            .column(unit::Column::Id)
                            .from(unit::Entity)
                            .and_where(unit::Column::Active.eq(false))
                            .take(),
                    ),
                )
                .take(),
        ),
    )
}

/// `EXISTS` a report of the unit matching `cond`.
///
/// The `LIMIT 1` is there for SQLite: from 3.51 it may rewrite an `EXISTS` into a join, and
/// with the bundled 3.51.3 that join returned a unit once per matching report (a unit with two
/// overdue reports came twice). A subquery with a `LIMIT` is left alone; PostgreSQL drops the
/// `LIMIT 1` of an `EXISTS` and plans the same semi-join as without it.
fn has_report(cond: Condition) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(report::Entity)
            .cond_where(cond)
            .and_where(
                Expr::col((report::Entity, report::Column::UnitId))
                    .equals((unit::Entity, unit::Column::Id)),
            )
            .limit(1)
            .take(),
    )
}

/// The reports a filtered board shows, as a condition on `reports`; `None` without filters.
fn report_filter(
    c: &campaign::Model,
    filter: &ProgressFilter,
    now: DateTime<Utc>,
) -> Option<Condition> {
    if filter.state.is_none() && filter.asset_type.is_none() && filter.overdue.is_none() {
        return None;
    }
    let mut cond = Condition::all().add(report::Column::CampaignId.eq(c.id));
    if let Some(s) = filter.state {
        let open = || report::Column::State.is_not_in(StoredState::MARKED);
        cond = match s {
            ReportState::NotStarted => cond.add(open()).add(report::Column::RecordCount.lte(0)),
            ReportState::Draft => cond.add(open()).add(report::Column::RecordCount.gt(0)),
            other => cond.add(report::Column::State.eq(other.stored())),
        };
    }
    if let Some(t) = &filter.asset_type {
        cond = cond.add(report::Column::TypeCode.eq(t.clone()));
    }
    if let Some(want) = filter.overdue {
        // Overdue: not sent and the deadline in force (the extension, else the campaign's) has
        // ended, i.e. it is before today's local date. Written without NULLs, so NOT is exact.
        let today = clock::local_date(now);
        let ext = report::Column::ExtensionDeadline;
        let passed = if clock::on_time(now, c.submission_deadline) {
            Condition::all().add(ext.is_not_null()).add(ext.lt(today))
        } else {
            Condition::any().add(ext.is_null()).add(ext.lt(today))
        };
        let overdue = Condition::all()
            .add(report::Column::State.is_not_in(StoredState::SENT))
            .add(passed);
        cond = cond.add(if want { overdue } else { overdue.not() });
    }
    Some(cond)
}

/// The filters on the units themselves (search and kind), as a condition on `units`.
fn unit_filter(filter: &ProgressFilter) -> Option<Condition> {
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_none() && filter.kind.is_none() {
        return None;
    }
    let mut cond = Condition::all();
    if let Some(q) = q {
        // Code and name, folded like the query (`search::fold`): "truong" finds "Trường".
        let pattern = LikeExpr::new(search::contains_pattern(q)).escape('\\');
        cond = cond.add(unit::Column::Search.like(pattern));
    }
    if let Some(k) = filter.kind {
        cond = cond.add(unit::Column::Kind.eq(k.as_str()));
    }
    Some(cond)
}

/// `?after=` of the board: keyset pagination of the unit rows.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardAfter {
    /// The rows that follow the unit with this budget code in the chosen order (pass the
    /// previous page's `next_after`): a deep page then costs what the first page costs. With
    /// `after`, `page` skips no rows; it is echoed back as the page's number.
    #[validate(length(min = 1, max = 7))]
    #[param(min_length = 1, max_length = 7)]
    pub after: Option<String>,
}

/// A column the unit rows are ordered by.
#[derive(Debug, Clone, Copy)]
enum SortKey {
    Code,
    Name,
}

impl SortKey {
    fn column(self) -> unit::Column {
        match self {
            SortKey::Code => unit::Column::Code,
            SortKey::Name => unit::Column::Name,
        }
    }

    fn value(self, u: &unit::Model) -> String {
        match self {
            SortKey::Code => u.code.clone(),
            SortKey::Name => u.name.clone(),
        }
    }
}

impl UnitSort {
    /// The columns of the order, each ascending (`true`) or descending; the last one is the
    /// unique code, so that the order is total and a unit's code marks a place in it. Each is
    /// served by an index: `units.code` (unique) and `ix_units_name_code`.
    fn keys(self) -> &'static [(SortKey, bool)] {
        match self {
            UnitSort::Code => &[(SortKey::Code, true)],
            UnitSort::CodeDesc => &[(SortKey::Code, false)],
            UnitSort::Name => &[(SortKey::Name, true), (SortKey::Code, true)],
            UnitSort::NameDesc => &[(SortKey::Name, false), (SortKey::Code, true)],
        }
    }
}

/// The rows strictly after `u` in the order `keys`. Two keys are written as
/// `a >= x AND (a > x OR b > y)` rather than a row comparison, so that the first key bounds an
/// index range on both backends whatever the directions.
fn keyset(keys: &[(SortKey, bool)], u: &unit::Model) -> Condition {
    let past = |k: SortKey, asc: bool| {
        let (c, v) = (k.column(), k.value(u));
        if asc { c.gt(v) } else { c.lt(v) }
    };
    match keys {
        [(a, a_asc), (b, b_asc)] => {
            let (c, v) = (a.column(), a.value(u));
            Condition::all()
                .add(if *a_asc { c.gte(v) } else { c.lte(v) })
                .add(Condition::any().add(past(*a, *a_asc)).add(past(*b, *b_asc)))
        }
        keys => keys
            .iter()
            .fold(Condition::all(), |cond, (k, asc)| cond.add(past(*k, *asc))),
    }
}

/// One page of unit rows, and the number of rows on all pages when it was counted.
struct RowsPage {
    units: Vec<unit::Model>,
    total: Option<i64>,
    more: bool,
}

/// Reads one page of unit rows.
///
/// - `after`: the rows after that unit (keyset, `LIMIT n + 1`), whatever the depth.
/// - `page=N` in the first half: `OFFSET`, walking the order's index from the start.
/// - `page=N` in the second half (the total is counted first): the order reversed with the
///   small offset from the far end, then the page turned back, so the last page costs what the
///   first one does.
///
/// `count_scope`: count the units in scope here (no filters, no `after`, a page after the
/// first), since the direction depends on it; otherwise the caller counts them alongside.
#[allow(clippy::too_many_arguments)]
async fn rows_page(
    db: &DatabaseConnection,
    v: &View,
    c: &campaign::Model,
    filter: &ProgressFilter,
    report_cond: &Option<Condition>,
    unit_cond: &Option<Condition>,
    page: &PageQuery,
    after: Option<&str>,
    count_scope: bool,
) -> AppResult<RowsPage> {
    let cursor = match after {
        Some(code) => Some(
            unit::Entity::find()
                .filter(unit::Column::Code.eq(code))
                .one(db)
                .await?
                .ok_or_else(|| {
                    AppError::field(
                        "after",
                        "unknown_unit",
                        "Không có đơn vị nào mang mã này (dùng giá trị next_after của trang trước).",
                        "No unit has this code (pass the previous page's next_after).",
                    )
                })?,
        ),
        None => None,
    };
    let mut units = unit::Entity::find();
    match report_cond {
        Some(cond) => units = units.filter(has_report(cond.clone())),
        None => units = units.filter(in_scope(c.id)),
    }
    if let Some(uc) = unit_cond {
        units = units.filter(uc.clone());
    }
    if let Some(area) = v.unit_condition() {
        units = units.filter(area);
    }
    let total = match (report_cond, unit_cond) {
        (None, None) if count_scope => Some(sum_of(&units_in_scope(db, v, c.id).await?, None)),
        (None, None) => None,
        (Some(cond), None) if !v.scoped() => {
            let n: Option<i64> = report::Entity::find()
                .select_only()
                .expr_as(
                    Expr::col(report::Column::UnitId)
                        .count_distinct()
                        .cast_as("bigint"),
                    "n",
                )
                .filter(cond.clone())
                .into_tuple()
                .one(db)
                .await?;
            Some(n.unwrap_or(0))
        }
        _ => Some(i64::try_from(units.clone().count(db).await?).unwrap_or(i64::MAX)),
    };
    let keys = filter.sort.unwrap_or_default().keys();
    // One row more than the page tells whether a next page exists; kept within SQL's signed
    // 64-bit range for the callers that ask for "every row" (`per_page` = `u64::MAX / 2`).
    let per_page = Ord::min(page.per_page(), i64::MAX as u64 - 1);
    let offset = page.offset();
    let known = total.and_then(|t| u64::try_from(t).ok());
    // (reversed, offset, limit)
    let (reversed, skip, limit) = match (&cursor, known) {
        (Some(u), _) => {
            units = units.filter(keyset(keys, u));
            (false, 0, per_page + 1)
        }
        (None, Some(t)) if offset >= t => {
            return Ok(RowsPage {
                units: vec![],
                total,
                more: false,
            });
        }
        (None, Some(t)) if offset > t / 2 => {
            let limit = Ord::min(per_page, t - offset);
            (true, t - offset - limit, limit)
        }
        (None, _) => (false, offset, per_page + 1),
    };
    for (k, asc) in keys {
        let order = if *asc != reversed {
            Order::Asc
        } else {
            Order::Desc
        };
        units = units.order_by(k.column(), order);
    }
    let mut rows = units.offset(skip).limit(limit).all(db).await?;
    let more = if reversed {
        rows.reverse();
        known.is_some_and(|t| offset + (rows.len() as u64) < t)
    } else {
        let more = rows.len() as u64 > per_page;
        rows.truncate(per_page as usize);
        more
    };
    Ok(RowsPage {
        units: rows,
        total,
        more,
    })
}

/// Computes the board of the whole installation, unit rows only ([`View::installation`]), at
/// the clock's now.
///
/// The counts come from SQL aggregates over the campaign's reports and registrations; only the
/// requested page of unit rows is loaded (see [`rows_page`]), with that page's registrations and
/// reports. Reports exist only for registered units (they are opened by registering, and a
/// registration is never deleted), and registered units are always in scope, so counts over
/// the campaign's reports are counts over the units in scope.
pub async fn board(
    state: &AppState,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
) -> AppResult<Board> {
    board_after(state, campaign_id, filter, page, None).await
}

/// [`board`] with keyset pagination: the rows after the unit with code `after`.
pub async fn board_after(
    state: &AppState,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
    after: Option<&str>,
) -> AppResult<Board> {
    board_of(
        state,
        &View::installation(),
        campaign_id,
        filter,
        page,
        after,
    )
    .await
}

/// The board of a view ([`view`]): a ward's units, a province's wards, the installation's
/// provinces — with the unit rows under the node, filtered and paginated.
pub async fn board_of(
    state: &AppState,
    v: &View,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
    after: Option<&str>,
) -> AppResult<Board> {
    Ok(computed(state, v, campaign_id, filter, page, after)
        .await?
        .board)
}

/// The report counts of a set of report groups (the whole board's, or one roll-up row's).
struct Tally {
    obligations: i64,
    registrations_by_type: BTreeMap<String, i64>,
    reports_by_state: BTreeMap<String, i64>,
    states_by_type: BTreeMap<String, BTreeMap<String, i64>>,
    submitted_on_time: i64,
    submitted_late: i64,
    overdue: i64,
    totals_by_type: BTreeMap<String, TypeTotal>,
    last_accepted: Option<DateTime<Utc>>,
}

/// Every state at zero.
fn zero_states() -> BTreeMap<String, i64> {
    ReportState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect()
}

impl Tally {
    fn of<'a>(
        groups: impl Iterator<Item = &'a ReportGroup>,
        c: &campaign::Model,
        now: DateTime<Utc>,
    ) -> Tally {
        let mut t = Tally {
            obligations: 0,
            registrations_by_type: BTreeMap::new(),
            reports_by_state: zero_states(),
            states_by_type: BTreeMap::new(),
            submitted_on_time: 0,
            submitted_late: 0,
            overdue: 0,
            totals_by_type: BTreeMap::new(),
            last_accepted: None,
        };
        for g in groups {
            for (records, n) in [(1, g.with_records), (0, g.n - g.with_records)] {
                if n > 0 {
                    let s = ReportState::from_stored(g.state, records);
                    *t.reports_by_state
                        .entry(s.as_str().to_string())
                        .or_default() += n;
                    *t.states_by_type
                        .entry(g.type_code.clone())
                        .or_insert_with(zero_states)
                        .entry(s.as_str().to_string())
                        .or_default() += n;
                }
            }
            t.obligations += g.n;
            *t.registrations_by_type
                .entry(g.type_code.clone())
                .or_default() += g.n;
            // Whether a report is sent depends on its stored state only, not on its records.
            if ReportState::from_stored(g.state, 0).is_sent() {
                t.submitted_on_time += g.first_on_time;
                t.submitted_late += g.n - g.first_on_time;
            } else if !clock::on_time(now, g.extension_deadline.unwrap_or(c.submission_deadline)) {
                t.overdue += g.n;
            }
            let tt = t.totals_by_type.entry(g.type_code.clone()).or_default();
            tt.record_count += g.record_count;
            tt.original_cost += g.original_cost;
            tt.remaining_value += g.remaining_value;
            t.last_accepted = Ord::max(t.last_accepted, g.last_accepted);
        }
        t
    }

    /// Every report owed is accepted, and at least one is owed.
    fn accepted_all(&self) -> bool {
        self.obligations > 0
            && self
                .reports_by_state
                .get(ReportState::Accepted.as_str())
                .copied()
                .unwrap_or(0)
                == self.obligations
    }
}

/// The grouped counts a roll-up board's rows are cut from.
struct AreaSources<'a> {
    scope: &'a [AreaCount],
    regs: &'a [RegistrationCounts],
    groups: &'a [ReportGroup],
    fully: &'a [AreaCount],
}

impl AreaSources<'_> {
    /// The row of `node` (`None`: the units not yet placed in the tree).
    fn row(&self, node: Option<NodeRef>, c: &campaign::Model, now: DateTime<Utc>) -> AreaRow {
        let key = node.as_ref().map(|n| n.id);
        let units_total = sum_of(self.scope, Some(key));
        let regs = self.regs.iter().filter(|r| r.area == key);
        let (registered, on_time, teams) = regs.fold((0, 0, 0), |(a, b, t), r| {
            (a + r.registered, b + r.on_time, t + r.teams)
        });
        let t = Tally::of(self.groups.iter().filter(|g| g.area == key), c, now);
        let accepted_all = t.accepted_all();
        AreaRow {
            node,
            units_total,
            teams_established: teams,
            registered_on_time: on_time,
            registered_late: registered - on_time,
            not_registered: units_total - registered,
            obligations: t.obligations,
            reports_by_state: t.reports_by_state,
            submitted_on_time: t.submitted_on_time,
            submitted_late: t.submitted_late,
            overdue: t.overdue,
            units_fully_submitted: sum_of(self.fully, Some(key)),
            accepted_all,
            accepted_at: if accepted_all { t.last_accepted } else { None },
        }
    }
}

/// The board with what it was computed from, for the pages that show more than the board.
struct Computed {
    board: Board,
    campaign: campaign::Model,
    groups: Vec<ReportGroup>,
}

async fn computed(
    state: &AppState,
    v: &View,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
    after: Option<&str>,
) -> AppResult<Computed> {
    let now = state.clock.now();
    let db = &state.db;
    let c = campaigns::get(db, campaign_id).await?;
    let report_cond = report_filter(&c, filter, now);
    let unit_cond = unit_filter(filter);
    // Without filters the rows' total is the units in scope: counted once, by the rows' reader
    // when it needs it first (a page after the first, read from whichever end is nearer).
    let count_scope = v.rollup.is_none()
        && report_cond.is_none()
        && unit_cond.is_none()
        && after.is_none()
        && page.offset() > 0;
    let (scope, regs, groups, fully, rows, nodes) = tokio::try_join!(
        async {
            if count_scope {
                AppResult::Ok(None)
            } else {
                units_in_scope(db, v, c.id).await.map(Some)
            }
        },
        registration_counts(db, v, &c),
        report_groups(db, v, &c),
        units_fully_submitted(db, v, c.id),
        rows_page(
            db,
            v,
            &c,
            filter,
            &report_cond,
            &unit_cond,
            page,
            after,
            count_scope
        ),
        area_nodes(db, v),
    )?;
    let units_total = scope
        .as_deref()
        .map(|s| sum_of(s, None))
        .or(rows.total)
        .unwrap_or(0);
    let units = rows.units;
    let registered: i64 = regs.iter().map(|r| r.registered).sum();
    let tally = Tally::of(groups.iter(), &c, now);
    let mut b = Board {
        campaign_id,
        as_of: now,
        submission_deadline: c.submission_deadline,
        days_left: clock::days_left(now, c.submission_deadline),
        units_total,
        teams_established: regs.iter().map(|r| r.teams).sum(),
        registered_on_time: regs.iter().map(|r| r.on_time).sum(),
        registered_late: regs.iter().map(|r| r.registered - r.on_time).sum(),
        not_registered: units_total - registered,
        registrations_by_type: tally.registrations_by_type,
        obligations: tally.obligations,
        reports_by_state: tally.reports_by_state,
        states_by_type: tally.states_by_type,
        submitted_on_time: tally.submitted_on_time,
        submitted_late: tally.submitted_late,
        overdue: tally.overdue,
        units_fully_submitted: sum_of(&fully, None),
        totals_by_type: tally.totals_by_type,
        rows: vec![],
        rows_total: u64::try_from(rows.total.unwrap_or(units_total)).unwrap_or(0),
        page: page.page(),
        per_page: page.per_page(),
        next_after: if rows.more {
            units.last().map(|u| u.code.clone())
        } else {
            None
        },
        node: v.node().cloned(),
        path: v.path.clone(),
        rollup: v.rollup,
        areas: vec![],
    };
    if v.rollup.is_some() {
        let sources = AreaSources {
            scope: scope.as_deref().unwrap_or_default(),
            regs: &regs,
            groups: &groups,
            fully: &fully,
        };
        b.areas = nodes
            .iter()
            .map(|n| sources.row(Some(n.clone()), &c, now))
            .collect();
        // The units not yet placed in the tree: a row of their own on the installation's board.
        let unplaced = sources.row(None, &c, now);
        if unplaced.units_total > 0 || unplaced.obligations > 0 {
            b.areas.push(unplaced);
        }
    }
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let (regs, reports) = tokio::try_join!(
        registration::Entity::find()
            .filter(registration::Column::CampaignId.eq(campaign_id))
            .filter(registration::Column::UnitId.is_in(ids.clone()))
            .all(db),
        report::Entity::find()
            .filter(report::Column::CampaignId.eq(campaign_id))
            .filter(report::Column::UnitId.is_in(ids))
            .order_by_asc(report::Column::TypeCode)
            .all(db),
    )?;
    let regs: BTreeMap<i64, registration::Model> =
        regs.into_iter().map(|r| (r.unit_id, r)).collect();
    let mut by_unit: BTreeMap<i64, Vec<report::Model>> = BTreeMap::new();
    for r in reports {
        by_unit.entry(r.unit_id).or_default().push(r);
    }
    for u in &units {
        let reg = regs.get(&u.id);
        let all = by_unit.get(&u.id).map(Vec::as_slice).unwrap_or_default();
        let days_overdue = all
            .iter()
            .filter(|r| reports::is_overdue(&c, r, now))
            .map(|r| -clock::days_left(now, reports::deadline(&c, r)))
            .max();
        let last_activity = all.iter().map(|r| r.updated_at).max();
        let shown: Vec<RowReport> = all
            .iter()
            .map(|r| row_report(&c, r, now))
            .filter(|r| filter.state.is_none_or(|s| s == r.state))
            .filter(|r| {
                filter
                    .asset_type
                    .as_ref()
                    .is_none_or(|t| *t == r.asset_type)
            })
            .filter(|r| filter.overdue.is_none_or(|o| o == r.overdue))
            .collect();
        b.rows.push(UnitRow {
            unit_id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            registered: reg.is_some(),
            registered_at: reg.map(|r| r.registered_at),
            registered_on_time: reg
                .map(|r| clock::on_time(r.registered_at, c.registration_deadline)),
            accountant_email: u.accountant_email.clone(),
            accountant_phone: u.accountant_phone.clone(),
            kind: UnitKind::parse(&u.kind),
            days_overdue,
            last_activity,
            reports: shown,
        });
    }
    Ok(Computed {
        board: b,
        campaign: c,
        groups,
    })
}

/// The ward-report paragraph on the inventory, in the shape of the ward's quarterly
/// report (the seed): the registered types, the units with one `+` line per type, the
/// reports sent **to the ward**, and the values in the reports sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// When it was computed (UTC).
    pub as_of: DateTime<Utc>,
    /// Vietnamese text, ready to paste into the quarterly report: the parts below, one per line.
    pub text: String,
    /// The same text in its parts.
    pub parts: SummaryParts,
}

/// The sentences of [`Summary`], in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SummaryParts {
    /// `Đã thực hiện đăng ký 03 loại tài sản/tổng số 19 loại tài sản kiểm kê … bao gồm: …`
    pub types: String,
    /// `Tổng số đơn vị … là 16 đơn vị, 16/16 đơn vị đã … , trong đó:`
    pub units: String,
    /// One line per registered type: `+ Tài sản kết cấu hạ tầng giao thông: 01 đơn vị;`
    pub units_by_type: Vec<String>,
    /// Reports sent to the ward: reports out of those owed, units that sent all of theirs.
    pub submissions: String,
    /// Original cost and remaining value in the reports sent to the ward (submitted or accepted); drafts are not counted.
    pub values: String,
    /// On a province's (or the installation's) paragraph: a heading, then one line per ward
    /// (or province) with its figures. Empty for a ward.
    pub areas: Vec<String>,
}

fn two(n: i64) -> String {
    format!("{n:02}")
}

/// Writes the board of the whole installation as the paragraph a ward's quarterly report carries.
pub async fn summary(state: &AppState, campaign_id: i64) -> AppResult<Summary> {
    Ok(summary_and_board(state, campaign_id).await?.0)
}

/// [`summary_and_board_of`] the whole installation.
pub async fn summary_and_board(state: &AppState, campaign_id: i64) -> AppResult<(Summary, Board)> {
    summary_and_board_of(state, &View::installation(), campaign_id).await
}

/// Label of the roll-up row of the units not yet placed in the tree.
pub const UNPLACED: &str = "Chưa xếp địa bàn";

/// The line of one roll-up row in the summary paragraph: its units, registrations, reports
/// sent and overdue, and whether everything is accepted.
fn area_line(a: &AreaRow, last: bool) -> String {
    let name = a.node.as_ref().map_or(UNPLACED, |n| n.name.as_str());
    let registered = a.registered_on_time + a.registered_late;
    let sent = a.submitted_on_time + a.submitted_late;
    let accepted = if a.accepted_all {
        ", đã duyệt hết báo cáo"
    } else {
        ""
    };
    format!(
        "+ {name}: {registered}/{} đơn vị đã đăng ký đối tượng kiểm kê, {}/{registered} đơn vị đã gửi đủ báo cáo; {sent}/{} báo cáo đã gửi ({} báo cáo quá hạn chưa gửi){accepted}{}",
        a.units_total,
        a.units_fully_submitted,
        a.obligations,
        a.overdue,
        if last { '.' } else { ';' }
    )
}

/// The summary paragraph of a view and the board's counts it is written from, computed once
/// (the summary page shows both). A province's paragraph names each ward's figures, the
/// installation's each province's.
pub async fn summary_and_board_of(
    state: &AppState,
    v: &View,
    campaign_id: i64,
) -> AppResult<(Summary, Board)> {
    let Computed {
        board: b, groups, ..
    } = computed(
        state,
        v,
        campaign_id,
        &ProgressFilter::default(),
        &PageQuery {
            page: Some(1),
            per_page: Some(1),
        },
        None,
    )
    .await?;
    let forms: Vec<(&crate::forms::Form, i64)> = b
        .registrations_by_type
        .iter()
        .filter_map(|(t, n)| state.forms.form_for_type(t).map(|f| (f.as_ref(), *n)))
        .collect();
    let name = |f: &crate::forms::Form| f.asset_type.report_name().to_string();

    let types = format!(
        "Đã thực hiện đăng ký {} loại tài sản/tổng số {} loại tài sản kiểm kê theo Quyết định 213/QĐ-TTg bao gồm: {}.",
        two(forms.len() as i64),
        state.forms.forms().count(),
        forms
            .iter()
            .map(|(f, _)| format!("{} (Mẫu số {})", name(f), f.code))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let total = b.units_total;
    let registered = b.registered_on_time + b.registered_late;
    let mut units =
        format!("Tổng số đơn vị thuộc phạm vi quản lý thuộc đối tượng kiểm kê là {total} đơn vị, ");
    if b.registered_late == 0 && b.not_registered == 0 && b.teams_established == total {
        units.push_str(&format!(
            "{}/{total} đơn vị đã thực hiện thành lập Tổ kiểm kê, đăng ký đối tượng kiểm kê đúng thời hạn quy định",
            b.teams_established
        ));
    } else {
        units.push_str(&format!(
            "{}/{total} đơn vị đã thành lập Tổ kiểm kê; {registered}/{total} đơn vị đã đăng ký đối tượng kiểm kê ({} đơn vị đúng thời hạn, {} đơn vị đăng ký muộn), {} đơn vị chưa đăng ký",
            b.teams_established, b.registered_on_time, b.registered_late, b.not_registered
        ));
    }
    units.push_str(", trong đó:");
    let last = forms.len().saturating_sub(1);
    let units_by_type: Vec<String> = forms
        .iter()
        .enumerate()
        .map(|(i, (f, n))| {
            let end = if i == last { '.' } else { ';' };
            format!("+ {}: {} đơn vị{end}", name(f), two(*n))
        })
        .collect();

    let sent = b.submitted_on_time + b.submitted_late;
    let submissions = format!(
        "Số báo cáo kiểm kê các đơn vị đã gửi UBND phường: {sent}/{} báo cáo ({} đúng hạn, {} gửi muộn; {} báo cáo quá hạn chưa gửi); {}/{registered} đơn vị đã gửi đủ báo cáo. Thời hạn gửi báo cáo là trước ngày {}.",
        b.obligations,
        b.submitted_on_time,
        b.submitted_late,
        b.overdue,
        b.units_fully_submitted,
        b.submission_deadline.format("%d/%m/%Y")
    );

    // Only reports sent to the ward: a draft's figures may still change.
    let (mut cost, mut remaining) = (0i64, 0i64);
    for g in groups
        .iter()
        .filter(|g| ReportState::from_stored(g.state, 0).is_sent())
    {
        cost += g.original_cost;
        remaining += g.remaining_value;
    }
    let values = format!(
        "Tổng nguyên giá tài sản trong {sent} báo cáo đã gửi UBND phường: {} đồng, giá trị còn lại: {} đồng (không tính báo cáo đang nhập hoặc bị trả lại).",
        numfmt::vn_money(cost),
        numfmt::vn_money(remaining)
    );

    let mut areas = Vec::new();
    if let Some(level) = b.rollup
        && !b.areas.is_empty()
    {
        areas.push(match level {
            Level::Ward => "Tình hình từng xã, phường:".to_string(),
            Level::Province => "Tình hình từng tỉnh, thành phố:".to_string(),
        });
        let last = b.areas.len() - 1;
        areas.extend(
            b.areas
                .iter()
                .enumerate()
                .map(|(i, a)| area_line(a, i == last)),
        );
    }

    let mut lines = vec![types.clone(), units.clone()];
    lines.extend(units_by_type.iter().cloned());
    lines.push(submissions.clone());
    lines.push(values.clone());
    lines.extend(areas.iter().cloned());
    let summary = Summary {
        as_of: b.as_of,
        text: lines.join("\n"),
        parts: SummaryParts {
            types,
            units,
            units_by_type,
            submissions,
            values,
            areas,
        },
    };
    Ok((summary, b))
}

/// `?within_days=` of the reminder list.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    /// Only reports due within this many days (overdue ones always included); default: all owed.
    #[validate(range(min = 0, max = 3650))]
    #[param(minimum = 0, maximum = 3650)]
    pub within_days: Option<i64>,
}

/// A report a unit still owes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Owed {
    /// Asset type.
    pub asset_type: String,
    /// Form.
    pub form_code: String,
    /// State.
    pub state: ReportState,
    /// Deadline in force.
    pub deadline: NaiveDate,
    /// Local days left (negative: overdue by that many days).
    pub days_left: i64,
}

/// A unit to remind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reminder {
    /// Unit id.
    pub unit_id: i64,
    /// Budget relationship code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Accountant's name.
    pub accountant_name: Option<String>,
    /// Accountant's e-mail.
    pub accountant_email: Option<String>,
    /// Accountant's phone.
    pub accountant_phone: Option<String>,
    /// Reports owed.
    pub owed: Vec<Owed>,
}

/// Units of the whole installation that still owe a report, soonest deadline first.
pub async fn reminders(
    state: &AppState,
    campaign_id: i64,
    within_days: Option<i64>,
) -> AppResult<Vec<Reminder>> {
    reminders_of(state, &View::installation(), campaign_id, within_days).await
}

/// Units under the view's node that still owe a report (a province's: every ward's late
/// units), soonest deadline first.
pub async fn reminders_of(
    state: &AppState,
    v: &View,
    campaign_id: i64,
    within_days: Option<i64>,
) -> AppResult<Vec<Reminder>> {
    let now = state.clock.now();
    let c = campaigns::get(&state.db, campaign_id).await?;
    // Only units owing a report can be listed: load their unsent reports and those units.
    // (Reports belong to registered units, which are always in scope.)
    let area = v.unit_condition();
    let unsent = || {
        let cond = Condition::all()
            .add(report::Column::CampaignId.eq(campaign_id))
            .add(report::Column::State.is_not_in(StoredState::SENT));
        match &area {
            Some(a) => cond.add(
                report::Column::UnitId.in_subquery(
                    Query::select()
                        .column(unit::Column::Id)
                        .from(unit::Entity)
                        .cond_where(a.clone())
                        .take(),
                ),
            ),
            None => cond,
        }
    };
    let mut reports: BTreeMap<i64, Vec<report::Model>> = BTreeMap::new();
    for r in report::Entity::find()
        .filter(unsent())
        .order_by_asc(report::Column::TypeCode)
        .all(&state.db)
        .await?
    {
        reports.entry(r.unit_id).or_default().push(r);
    }
    let units = unit::Entity::find()
        .filter(has_report(unsent()))
        .order_by_asc(unit::Column::Code)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for u in &units {
        let owed: Vec<Owed> = reports
            .get(&u.id)
            .into_iter()
            .flatten()
            .filter(|r| !ReportState::of(r).is_sent())
            .map(|r| {
                let deadline = reports::deadline(&c, r);
                Owed {
                    asset_type: r.type_code.clone(),
                    form_code: r.form_code.clone(),
                    state: ReportState::of(r),
                    deadline,
                    days_left: clock::days_left(now, deadline),
                }
            })
            .filter(|o| within_days.is_none_or(|n| o.days_left <= n))
            .collect();
        if !owed.is_empty() {
            out.push(Reminder {
                unit_id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                accountant_name: u.accountant_name.clone(),
                accountant_email: u.accountant_email.clone(),
                accountant_phone: u.accountant_phone.clone(),
                owed,
            });
        }
    }
    out.sort_by_key(|r| {
        (
            r.owed.iter().map(|o| o.days_left).min().unwrap_or(i64::MAX),
            r.code.clone(),
        )
    });
    Ok(out)
}

/// Reports first sent on one local day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DaySent {
    /// Local date (Vietnam).
    pub date: NaiveDate,
    /// Reports first sent that day.
    pub sent: i64,
    /// Reports first sent up to and including that day.
    pub cumulative: i64,
}

/// Submissions over time against the deadline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Timeline {
    /// Reports owed.
    pub obligations: i64,
    /// The campaign's submission deadline.
    pub deadline: NaiveDate,
    /// Extended deadlines granted (distinct, ascending).
    pub extensions: Vec<NaiveDate>,
    /// One entry per day on which a report was first sent, ascending.
    pub days: Vec<DaySent>,
}

#[derive(Debug, FromQueryResult)]
struct DayCount {
    day: NaiveDate,
    n: i64,
}

/// [`board_and_timeline_of`] the whole installation.
pub async fn board_and_timeline(
    state: &AppState,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
    after: Option<&str>,
) -> AppResult<(Board, Timeline)> {
    board_and_timeline_of(
        state,
        &View::installation(),
        campaign_id,
        filter,
        page,
        after,
    )
    .await
}

/// The board of a view and the submissions over time, as the board page shows them: computed once
/// (the timeline's owed reports and extensions are the board's own counts; only the count of
/// first submissions per local day is read besides, alongside the board).
pub async fn board_and_timeline_of(
    state: &AppState,
    v: &View,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
    after: Option<&str>,
) -> AppResult<(Board, Timeline)> {
    let (computed, rows) = tokio::try_join!(
        computed(state, v, campaign_id, filter, page, after),
        first_sent_per_day(&state.db, v, campaign_id),
    )?;
    let Computed {
        board,
        campaign,
        groups,
    } = computed;
    let mut days = Vec::with_capacity(rows.len());
    let mut cumulative = 0;
    for r in rows {
        cumulative += r.n;
        days.push(DaySent {
            date: r.day,
            sent: r.n,
            cumulative,
        });
    }
    let mut extensions: Vec<NaiveDate> =
        groups.iter().filter_map(|g| g.extension_deadline).collect();
    extensions.sort();
    extensions.dedup();
    let timeline = Timeline {
        obligations: board.obligations,
        deadline: campaign.submission_deadline,
        extensions,
        days,
    };
    Ok((board, timeline))
}

/// The count of first submissions per local day (grouped in SQL, so it reads one row per day
/// whatever the number of reports).
async fn first_sent_per_day(
    db: &DatabaseConnection,
    v: &View,
    campaign_id: i64,
) -> AppResult<Vec<DayCount>> {
    let backend = db.get_database_backend();
    // Vietnam keeps UTC+7 all year, so a local day is the UTC instant shifted by seven hours.
    let day = if backend == DbBackend::Postgres {
        "CAST(r.first_submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh' AS date)"
    } else {
        "date(r.first_submitted_at, '+7 hours')"
    };
    let mut q = Sql::new(backend);
    q.push("SELECT ")
        .push(day)
        .push(" AS day, CAST(COUNT(*) AS BIGINT) AS n");
    // Only the area's filter: the days are not cut per roll-up row.
    let flat = View {
        rollup: None,
        ..v.clone()
    };
    push_reports_in(&mut q, &flat, campaign_id);
    q.push(" AND r.first_submitted_at IS NOT NULL GROUP BY 1 ORDER BY 1");
    Ok(DayCount::find_by_statement(q.statement()).all(db).await?)
}

/// The Vietnamese message a finance officer sends a unit that still owes reports: the unit,
/// each report with its deadline and the days left or overdue, and what to do.
pub fn reminder_message(r: &Reminder) -> String {
    let to = r.accountant_name.as_deref().unwrap_or("Kế toán đơn vị");
    let owed: Vec<String> = r
        .owed
        .iter()
        .map(|o| {
            let when = match o.days_left {
                0 => "hết hạn hôm nay".to_string(),
                d if d > 0 => format!("còn {d} ngày"),
                d => format!("đã quá hạn {} ngày", -d),
            };
            format!(
                "báo cáo kiểm kê Mẫu số {} ({}), hạn gửi {} — {when}",
                o.form_code,
                o.state.label_vi(),
                o.deadline.format("%d/%m/%Y")
            )
        })
        .collect();
    format!(
        "Kính gửi {to} - {} (mã {}): đơn vị chưa gửi {}. Đề nghị đơn vị hoàn thiện số liệu và gửi báo cáo trên phần mềm kiểm kê tài sản công đúng hạn.",
        r.name,
        r.code,
        owed.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owed(form: &str, state: ReportState, deadline: &str, days_left: i64) -> Owed {
        Owed {
            asset_type: form[..2].to_string(),
            form_code: form.to_string(),
            state,
            deadline: NaiveDate::parse_from_str(deadline, "%Y-%m-%d").expect("date"),
            days_left,
        }
    }

    #[test]
    fn a_reminder_names_the_unit_each_report_its_deadline_and_the_days_left_or_overdue() {
        let r = Reminder {
            unit_id: 2,
            code: "1109302".into(),
            name: "Phòng Kinh tế, Hạ tầng và Đô thị phường Tam Thanh".into(),
            accountant_name: Some("Nguyễn Thị Hoa".into()),
            accountant_email: None,
            accountant_phone: None,
            owed: vec![
                owed("01a", ReportState::Draft, "2026-03-31", 5),
                owed("02a", ReportState::NotStarted, "2026-03-31", -3),
            ],
        };
        let m = reminder_message(&r);
        assert!(
            m.starts_with("Kính gửi Nguyễn Thị Hoa - Phòng Kinh tế"),
            "{m}"
        );
        assert!(m.contains("(mã 1109302)"));
        assert!(
            m.contains("Mẫu số 01a (đang nhập), hạn gửi 31/03/2026 — còn 5 ngày"),
            "{m}"
        );
        assert!(
            m.contains("Mẫu số 02a (chưa bắt đầu), hạn gửi 31/03/2026 — đã quá hạn 3 ngày"),
            "{m}"
        );
        let today = Reminder {
            accountant_name: None,
            owed: vec![owed("18a", ReportState::Returned, "2026-04-20", 0)],
            ..r
        };
        let m = reminder_message(&today);
        assert!(m.starts_with("Kính gửi Kế toán đơn vị - "), "{m}");
        assert!(m.contains("hết hạn hôm nay"), "{m}");
    }
}
