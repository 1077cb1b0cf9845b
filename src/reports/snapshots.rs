//! Snapshots: the records of a report frozen at each submission, as JSON sorted by asset
//! code, with the SHA-256 digest of that JSON.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::{
    entities::{asset, report, report_snapshot},
    error::{AppError, AppResult},
    forms::record,
    state::AppState,
};

/// The records of a report (its unit's assets of its type), sorted by code.
pub(super) async fn records(
    db: &impl ConnectionTrait,
    r: &report::Model,
) -> AppResult<Vec<asset::Model>> {
    Ok(asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(r.campaign_id))
        .filter(asset::Column::UnitId.eq(r.unit_id))
        .filter(asset::Column::TypeCode.eq(r.type_code.clone()))
        .order_by_asc(asset::Column::Code)
        .all(db)
        .await?)
}

/// The snapshots of a report, oldest first.
pub(super) async fn snapshots(
    db: &impl ConnectionTrait,
    report_id: i64,
) -> AppResult<Vec<report_snapshot::Model>> {
    Ok(report_snapshot::Entity::find()
        .filter(report_snapshot::Column::ReportId.eq(report_id))
        .order_by_asc(report_snapshot::Column::Seq)
        .all(db)
        .await?)
}

/// The current records of a report, as the snapshot stores them: sorted by code.
pub(super) async fn current_records(
    state: &AppState,
    db: &impl ConnectionTrait,
    r: &report::Model,
) -> AppResult<Vec<Json>> {
    let form = state.forms.form(&r.form_code).ok_or_else(|| {
        AppError::Internal(format!("report {} has unknown form {}", r.id, r.form_code))
    })?;
    Ok(records(db, r)
        .await?
        .iter()
        .map(|m| {
            let mut j = record::record_json(&record::record_of(form, m));
            j.insert("asset_id".into(), Json::from(m.id));
            Json::Object(j)
        })
        .collect())
}

/// The snapshot payload of a list of records and its SHA-256 digest (hex).
pub(super) fn seal(records: Vec<Json>) -> AppResult<(Json, String)> {
    let payload = Json::Array(records);
    let bytes = serde_json::to_vec(&payload).map_err(|e| AppError::Internal(e.to_string()))?;
    let digest = hex::encode(Sha256::digest(&bytes));
    Ok((payload, digest))
}

/// The records a snapshot froze.
pub(super) fn records_of(s: &report_snapshot::Model) -> Vec<Json> {
    s.records.as_array().cloned().unwrap_or_default()
}

/// The SHA-256 digest of a report's current records, computed as a submission would
/// (for consistency checks: a locked report's records hash to its last snapshot).
pub async fn current_digest(state: &AppState, r: &report::Model) -> AppResult<String> {
    Ok(seal(current_records(state, &state.db, r).await?)?.1)
}
