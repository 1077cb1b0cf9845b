//! A report as the API shows it: its state, figures, deadline, last digest and, after a
//! return, the changes since.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    campaigns,
    entities::{campaign, report, report_snapshot},
    error::AppResult,
    state::AppState,
};

use super::{
    changes::{Changes, diff},
    query,
    snapshots::{current_records, records_of, snapshots},
    state::{ReportState, deadline, is_overdue, sent_on_time},
    workflow::AssetComment,
};

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportView {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Asset type.
    pub asset_type: String,
    /// Form.
    pub form_code: String,
    /// State.
    pub state: ReportState,
    /// Sent as "nothing to report".
    pub nil_return: bool,
    /// Records.
    pub record_count: i64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of depreciation, đồng.
    pub depreciation: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
    /// Deadline in force (local date).
    pub deadline: NaiveDate,
    /// Extension granted, if any.
    pub extension_deadline: Option<NaiveDate>,
    /// Why the extension was granted.
    pub extension_reason: Option<String>,
    /// First submission (UTC).
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Latest submission (UTC).
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether the first submission met the deadline.
    pub submitted_on_time: Option<bool>,
    /// Deadline passed and not sent.
    pub overdue: bool,
    /// Latest return (UTC).
    pub returned_at: Option<DateTime<Utc>>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Comments on assets.
    pub return_comments: Vec<AssetComment>,
    /// Acceptance (UTC).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Digest of the latest snapshot.
    pub digest: Option<String>,
    /// Number of submissions so far.
    pub submissions: u64,
    /// Changes since the returned version: while returned, the edits so far; after a
    /// resubmission, between the last two snapshots.
    pub changes_since_returned: Option<Changes>,
}

fn view(
    c: &campaign::Model,
    r: &report::Model,
    now: DateTime<Utc>,
    digest: Option<String>,
    submissions: u64,
    changes: Option<Changes>,
) -> ReportView {
    ReportView {
        id: r.id,
        campaign_id: r.campaign_id,
        unit_id: r.unit_id,
        asset_type: r.type_code.clone(),
        form_code: r.form_code.clone(),
        state: ReportState::of(r),
        nil_return: r.nil_return,
        record_count: r.record_count,
        original_cost: r.original_cost_total,
        depreciation: r.depreciation_total,
        remaining_value: r.remaining_value_total,
        deadline: deadline(c, r),
        extension_deadline: r.extension_deadline,
        extension_reason: r.extension_reason.clone(),
        first_submitted_at: r.first_submitted_at,
        submitted_at: r.submitted_at,
        submitted_on_time: sent_on_time(c, r),
        overdue: is_overdue(c, r, now),
        returned_at: r.returned_at,
        return_reason: r.return_reason.clone(),
        return_comments: r
            .return_comments
            .clone()
            .and_then(|j| serde_json::from_value(j).ok())
            .unwrap_or_default(),
        accepted_at: r.accepted_at,
        digest,
        submissions,
        changes_since_returned: changes,
    }
}

pub(super) async fn full_view(
    state: &AppState,
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    r: &report::Model,
) -> AppResult<ReportView> {
    let snaps = snapshots(db, r.id).await?;
    let now = state.clock.now();
    let changes = match (ReportState::of(r), snaps.as_slice()) {
        (ReportState::Returned, [.., last]) => Some(diff(
            &records_of(last),
            &current_records(state, db, r).await?,
        )),
        (ReportState::Submitted | ReportState::Accepted, [.., prev, last]) => {
            Some(diff(&records_of(prev), &records_of(last)))
        }
        _ => None,
    };
    Ok(view(
        c,
        r,
        now,
        snaps.last().map(|s| s.digest.clone()),
        snaps.len() as u64,
        changes,
    ))
}

/// One report in full, with the changes since it was returned.
pub async fn get(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<ReportView> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let r = query::find(&state.db, campaign_id, unit_id, type_code).await?;
    full_view(state, &state.db, &c, &r).await
}

/// Every report of a unit in a campaign (summary: no change lists).
pub async fn list(state: &AppState, campaign_id: i64, unit_id: i64) -> AppResult<Vec<ReportView>> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let now = state.clock.now();
    let reports = query::of_unit(&state.db, campaign_id, unit_id).await?;
    let mut out = Vec::with_capacity(reports.len());
    for r in &reports {
        let count = report_snapshot::Entity::find()
            .filter(report_snapshot::Column::ReportId.eq(r.id))
            .count(&state.db)
            .await?;
        out.push(view(&c, r, now, None, count, None));
    }
    Ok(out)
}
