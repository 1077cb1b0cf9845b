//! The finance office's view of a campaign: who registered, who sent, who is late.
//!
//! Every count is computed from the obligations — one report per unit and
//! registered asset type — so no count can exceed the number of obligations, and
//! the report counters it sums are maintained in the same transactions as the records.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    campaigns, clock,
    entities::{campaign, registration, report, unit},
    error::AppResult,
    numfmt,
    pagination::PageQuery,
    state::AppState,
    submissions::{self, ReportState},
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
}

struct Data {
    campaign: campaign::Model,
    units: Vec<unit::Model>,
    registrations: BTreeMap<i64, registration::Model>,
    reports: BTreeMap<i64, Vec<report::Model>>,
}

async fn load(state: &AppState, campaign_id: i64) -> AppResult<Data> {
    let campaign = campaigns::get(&state.db, campaign_id).await?;
    let registrations: BTreeMap<i64, registration::Model> = registration::Entity::find()
        .filter(registration::Column::CampaignId.eq(campaign_id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.unit_id, r))
        .collect();
    let mut reports: BTreeMap<i64, Vec<report::Model>> = BTreeMap::new();
    for r in report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .order_by_asc(report::Column::TypeCode)
        .all(&state.db)
        .await?
    {
        reports.entry(r.unit_id).or_default().push(r);
    }
    let units = unit::Entity::find()
        .filter(
            Condition::any()
                .add(unit::Column::Active.eq(true))
                .add(unit::Column::Id.is_in(registrations.keys().copied().collect::<Vec<_>>())),
        )
        .order_by_asc(unit::Column::Code)
        .all(&state.db)
        .await?;
    Ok(Data {
        campaign,
        units,
        registrations,
        reports,
    })
}

fn row_report(c: &campaign::Model, r: &report::Model, now: DateTime<Utc>) -> RowReport {
    RowReport {
        asset_type: r.type_code.clone(),
        form_code: r.form_code.clone(),
        state: ReportState::of(r),
        nil_return: r.nil_return,
        submitted_at: r.submitted_at,
        on_time: submissions::sent_on_time(c, r),
        overdue: submissions::is_overdue(c, r, now),
        deadline: submissions::deadline(c, r),
        record_count: r.record_count,
        original_cost: r.original_cost_total,
        remaining_value: r.remaining_value_total,
    }
}

/// Computes the board at the clock's now.
pub async fn board(
    state: &AppState,
    campaign_id: i64,
    filter: &ProgressFilter,
    page: &PageQuery,
) -> AppResult<Board> {
    let now = state.clock.now();
    let d = load(state, campaign_id).await?;
    let c = &d.campaign;
    let mut b = Board {
        campaign_id,
        as_of: now,
        submission_deadline: c.submission_deadline,
        days_left: clock::days_left(now, c.submission_deadline),
        units_total: d.units.len() as i64,
        teams_established: 0,
        registered_on_time: 0,
        registered_late: 0,
        not_registered: 0,
        registrations_by_type: BTreeMap::new(),
        obligations: 0,
        reports_by_state: ReportState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect(),
        submitted_on_time: 0,
        submitted_late: 0,
        overdue: 0,
        units_fully_submitted: 0,
        totals_by_type: BTreeMap::new(),
        rows: vec![],
        rows_total: 0,
        page: page.page(),
        per_page: page.per_page(),
    };
    let mut rows = Vec::new();
    for u in &d.units {
        let reg = d.registrations.get(&u.id);
        match reg {
            Some(r) => {
                if r.team_members.as_array().is_some_and(|m| !m.is_empty()) {
                    b.teams_established += 1;
                }
                if clock::on_time(r.registered_at, c.registration_deadline) {
                    b.registered_on_time += 1;
                } else {
                    b.registered_late += 1;
                }
            }
            None => b.not_registered += 1,
        }
        let reports: Vec<RowReport> = d
            .reports
            .get(&u.id)
            .map(|rs| rs.iter().map(|r| row_report(c, r, now)).collect())
            .unwrap_or_default();
        for r in &reports {
            b.obligations += 1;
            *b.registrations_by_type
                .entry(r.asset_type.clone())
                .or_default() += 1;
            *b.reports_by_state
                .entry(r.state.as_str().to_string())
                .or_default() += 1;
            match (r.state.is_sent(), r.on_time) {
                (true, Some(true)) => b.submitted_on_time += 1,
                (true, _) => b.submitted_late += 1,
                _ => {}
            }
            if r.overdue {
                b.overdue += 1;
            }
            let t = b.totals_by_type.entry(r.asset_type.clone()).or_default();
            t.record_count += r.record_count;
            t.original_cost += r.original_cost;
            t.remaining_value += r.remaining_value;
        }
        if !reports.is_empty() && reports.iter().all(|r| r.state.is_sent()) {
            b.units_fully_submitted += 1;
        }
        let filtering =
            filter.state.is_some() || filter.asset_type.is_some() || filter.overdue.is_some();
        let shown: Vec<RowReport> = reports
            .into_iter()
            .filter(|r| filter.state.is_none_or(|s| s == r.state))
            .filter(|r| {
                filter
                    .asset_type
                    .as_ref()
                    .is_none_or(|t| *t == r.asset_type)
            })
            .filter(|r| filter.overdue.is_none_or(|o| o == r.overdue))
            .collect();
        if filtering && shown.is_empty() {
            continue;
        }
        rows.push(UnitRow {
            unit_id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            registered: reg.is_some(),
            registered_at: reg.map(|r| r.registered_at),
            registered_on_time: reg
                .map(|r| clock::on_time(r.registered_at, c.registration_deadline)),
            accountant_email: u.accountant_email.clone(),
            accountant_phone: u.accountant_phone.clone(),
            reports: shown,
        });
    }
    b.rows_total = rows.len() as u64;
    b.rows = rows
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.per_page()).unwrap_or(usize::MAX))
        .collect();
    Ok(b)
}

/// The ward-report paragraph on the inventory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// When it was computed (UTC).
    pub as_of: DateTime<Utc>,
    /// Vietnamese text, ready to paste into the quarterly report.
    pub text: String,
}

fn two(n: i64) -> String {
    format!("{n:02}")
}

/// Writes the board as the paragraph a ward's quarterly report carries.
pub async fn summary(state: &AppState, campaign_id: i64) -> AppResult<Summary> {
    let b = board(
        state,
        campaign_id,
        &ProgressFilter::default(),
        &PageQuery {
            page: Some(1),
            per_page: Some(1),
        },
    )
    .await?;
    let total = b.units_total;
    let registered = b.registered_on_time + b.registered_late;
    let mut text =
        format!("Tổng số đơn vị thuộc phạm vi quản lý thuộc đối tượng kiểm kê là {total} đơn vị, ");
    if b.registered_late == 0 && b.not_registered == 0 {
        text.push_str(&format!(
            "{}/{total} đơn vị đã thực hiện thành lập Tổ kiểm kê, đăng ký đối tượng kiểm kê đúng thời hạn quy định",
            b.teams_established
        ));
    } else {
        text.push_str(&format!(
            "{}/{total} đơn vị đã thành lập Tổ kiểm kê; {registered}/{total} đơn vị đã đăng ký đối tượng kiểm kê ({} đơn vị đúng thời hạn, {} đơn vị đăng ký muộn); {} đơn vị chưa đăng ký",
            b.teams_established, b.registered_on_time, b.registered_late, b.not_registered
        ));
    }
    text.push_str(". ");
    let names: Vec<String> = b
        .registrations_by_type
        .keys()
        .filter_map(|t| state.forms.form_for_type(t))
        .map(|f| format!("{} (mẫu số {})", f.asset_type.name.vi, f.code))
        .collect();
    text.push_str(&format!(
        "Đã thực hiện đăng ký {} loại tài sản/tổng số {} loại tài sản kiểm kê theo Quyết định 213/QĐ-TTg bao gồm: {}, trong đó: ",
        two(b.registrations_by_type.len() as i64),
        state.forms.forms().count(),
        names.join(", ")
    ));
    let per_type: Vec<String> = b
        .registrations_by_type
        .iter()
        .filter_map(|(t, n)| {
            state
                .forms
                .form_for_type(t)
                .map(|f| format!("{}: {} đơn vị", f.asset_type.name.vi, two(*n)))
        })
        .collect();
    text.push_str(&per_type.join("; "));
    let units_sent = b.units_fully_submitted;
    let registered_units = registered.max(0);
    text.push_str(&format!(
        ". Số lượng đơn vị đã gửi báo cáo kiểm kê: {units_sent}/{registered_units} đơn vị ({} báo cáo đúng hạn, {} báo cáo gửi muộn, {} báo cáo quá hạn chưa gửi); thời hạn gửi báo cáo là trước ngày {}",
        b.submitted_on_time,
        b.submitted_late,
        b.overdue,
        b.submission_deadline.format("%d/%m/%Y")
    ));
    let cost: i64 = b.totals_by_type.values().map(|t| t.original_cost).sum();
    let remaining: i64 = b.totals_by_type.values().map(|t| t.remaining_value).sum();
    text.push_str(&format!(
        ". Tổng nguyên giá tài sản đã kê khai: {} đồng, giá trị còn lại: {} đồng.",
        numfmt::vn_money(cost),
        numfmt::vn_money(remaining)
    ));
    Ok(Summary {
        as_of: b.as_of,
        text,
    })
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

/// Units that still owe a report, soonest deadline first.
pub async fn reminders(
    state: &AppState,
    campaign_id: i64,
    within_days: Option<i64>,
) -> AppResult<Vec<Reminder>> {
    let now = state.clock.now();
    let d = load(state, campaign_id).await?;
    let mut out = Vec::new();
    for u in &d.units {
        let owed: Vec<Owed> = d
            .reports
            .get(&u.id)
            .into_iter()
            .flatten()
            .filter(|r| !ReportState::of(r).is_sent())
            .map(|r| {
                let deadline = submissions::deadline(&d.campaign, r);
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
