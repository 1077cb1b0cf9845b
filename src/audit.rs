//! The audit trail: who did what, when, with the record before and after.
//! Every write records its event in the same transaction as the change.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;

use crate::{auth::Actor, entities::audit_event, error::AppResult};

/// One event to record.
#[derive(Debug, Default)]
pub struct Event<'a> {
    /// Verb, e.g. `create`, `update`, `delete`, `submit`.
    pub action: &'a str,
    /// Kind of record, e.g. `asset`, `unit`.
    pub entity: &'a str,
    /// Record id.
    pub entity_id: Option<i64>,
    /// Campaign concerned.
    pub campaign_id: Option<i64>,
    /// Unit concerned.
    pub unit_id: Option<i64>,
    /// The record before the change.
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    pub after: Option<serde_json::Value>,
    /// Free text (a reason, a file name).
    pub detail: Option<String>,
}

/// A record as JSON for `before`/`after`.
pub fn snapshot<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Writes `event` as done by `actor` at `at`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    at: DateTime<Utc>,
    event: Event<'_>,
) -> AppResult<()> {
    // Written without RETURNING: nobody reads the event back here.
    let event = audit_event::ActiveModel {
        at: Set(at),
        actor_id: Set(actor.audit_id()),
        actor_name: Set(Some(actor.username.clone())),
        action: Set(event.action.to_string()),
        entity: Set(event.entity.to_string()),
        entity_id: Set(event.entity_id),
        campaign_id: Set(event.campaign_id),
        unit_id: Set(event.unit_id),
        before: Set(event.before),
        after: Set(event.after),
        detail: Set(event.detail),
        ..Default::default()
    };
    audit_event::Entity::insert(event)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records a login, a failed login or a logout.
pub async fn record_login(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    user_id: Option<i64>,
    username: &str,
    action: &str,
    address: &str,
) -> AppResult<()> {
    let actor = Actor {
        user_id: user_id.unwrap_or(0),
        username: username.chars().take(100).collect(),
        ..Actor::system()
    };
    record(
        db,
        &actor,
        at,
        Event {
            action,
            entity: "session",
            entity_id: user_id,
            detail: (!address.is_empty()).then(|| format!("address {address}")),
            ..Default::default()
        },
    )
    .await
}
