//! A report's history, read from its audit trail.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppResult;

use super::workflow::AssetComment;

/// One step in a report's life, as its audit trail recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportEvent {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Option<String>,
    /// `submit`, `return`, `accept` or `extension`.
    pub action: String,
    /// The reason given (return, extension).
    pub detail: Option<String>,
    /// A return's comments on assets.
    pub comments: Vec<AssetComment>,
}

/// The report's history: its submissions, returns (with their comments), acceptance and
/// extensions, oldest first.
pub async fn history(db: &impl ConnectionTrait, report_id: i64) -> AppResult<Vec<ReportEvent>> {
    use crate::entities::audit_event;
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Entity.eq("report"))
        .filter(audit_event::Column::EntityId.eq(report_id))
        .filter(audit_event::Column::Action.is_in(["submit", "return", "accept", "extension"]))
        .order_by_asc(audit_event::Column::At)
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(events
        .into_iter()
        .map(|e| ReportEvent {
            comments: e
                .after
                .as_ref()
                .and_then(|a| a.get("return_comments"))
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default(),
            at: e.at,
            actor: e.actor_name,
            action: e.action,
            detail: e.detail,
        })
        .collect())
}
