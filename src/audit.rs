//! The audit trail: who did what, when, with the record before and after.
//! Every write records its event in the same transaction as the change.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
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

impl<'a> Event<'a> {
    /// The event `action` on the record `entity` number `entity_id` (`None` for an event about no
    /// one record, e.g. an export).
    pub fn new(action: &'a str, entity: &'a str, entity_id: impl Into<Option<i64>>) -> Self {
        Event {
            action,
            entity,
            entity_id: entity_id.into(),
            ..Default::default()
        }
    }

    /// The campaign concerned.
    pub fn campaign(mut self, campaign_id: i64) -> Self {
        self.campaign_id = Some(campaign_id);
        self
    }

    /// The unit concerned.
    pub fn unit(mut self, unit_id: i64) -> Self {
        self.unit_id = Some(unit_id);
        self
    }

    /// The record before the change, as JSON.
    pub fn before<T: Serialize>(mut self, value: &T) -> Self {
        self.before = snapshot(value);
        self
    }

    /// The record after the change, as JSON.
    pub fn after<T: Serialize>(mut self, value: &T) -> Self {
        self.after = snapshot(value);
        self
    }

    /// The record before the change, already as JSON (`None`: there was none).
    pub fn before_json(mut self, value: impl Into<Option<serde_json::Value>>) -> Self {
        self.before = value.into();
        self
    }

    /// The record after the change, already as JSON.
    pub fn after_json(mut self, value: impl Into<Option<serde_json::Value>>) -> Self {
        self.after = value.into();
        self
    }

    /// Free text: a reason, a file name, counts.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Writes the event as done by `actor` at `at` (in the caller's transaction).
    pub async fn record(
        self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        record(db, actor, at, self).await
    }
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

/// Records a failed login (or a wrong current password) of `username` from `address`.
///
/// Failures are aggregated: the first failure of a (name, address) in a throttling window
/// writes a `login_failed` row whose `at` is the window's start; the next ones only update
/// that row's `after` to `{"failures": n, "last_at": …}`. A flood of wrong passwords therefore
/// writes one row per name and address per window, not one per attempt.
pub async fn record_login_failure(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    username: &str,
    address: &str,
    failures: u32,
    window_start: DateTime<Utc>,
) -> AppResult<()> {
    let name: String = username.chars().take(100).collect();
    let detail = format!("address {address}");
    let after = serde_json::json!({"failures": failures, "last_at": at});
    if failures > 1 {
        let updated = audit_event::Entity::update_many()
            .col_expr(
                audit_event::Column::After,
                sea_orm::sea_query::Expr::value(after.clone()),
            )
            .filter(audit_event::Column::Action.eq("login_failed"))
            .filter(audit_event::Column::Entity.eq("session"))
            .filter(audit_event::Column::ActorName.eq(name.clone()))
            .filter(audit_event::Column::Detail.eq(detail.clone()))
            .filter(audit_event::Column::At.gte(window_start - chrono::Duration::seconds(1)))
            .exec(db)
            .await?;
        if updated.rows_affected > 0 {
            return Ok(());
        }
    }
    let actor = Actor {
        user_id: 0,
        username: name,
        ..Actor::system()
    };
    record(
        db,
        &actor,
        window_start,
        Event {
            action: "login_failed",
            entity: "session",
            after: Some(after),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await
}

/// Action of an operator's unlock (`kiemke unlock`, `kiemke reset-password`).
pub const UNLOCK: &str = "unlock";

/// Audit events looked at by the first look for unlocks after a start.
const UNLOCK_LOOKBACK: i64 = 10_000;

/// The user names operators unlocked (see [`UNLOCK`]) in the events after id `after` (the
/// last [`UNLOCK_LOOKBACK`] events when `None`), and the highest event id looked at.
///
/// The running service calls this when it refuses an attempt (at most every few seconds), so
/// that `kiemke unlock`, another process, reaches its in-memory throttle through the database.
/// Both queries walk the primary key from `after` on: their cost is the number of events
/// written since the last look, whatever the size of the trail.
pub async fn unlocks_after(
    db: &impl ConnectionTrait,
    after: Option<i64>,
) -> AppResult<(i64, Vec<String>)> {
    let last = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::Id.max(), "max_id")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let from = after.unwrap_or(last - UNLOCK_LOOKBACK);
    let names = audit_event::Entity::find()
        .filter(audit_event::Column::Id.gt(from))
        .filter(audit_event::Column::Id.lte(last))
        .filter(audit_event::Column::Action.eq(UNLOCK))
        .filter(audit_event::Column::Entity.eq("user"))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| e.detail?.strip_prefix("user ").map(str::to_string))
        .collect();
    Ok((last, names))
}

/// Records an operator's unlock of `username` (user id `user_id`), done by `actor` at `at`.
pub async fn record_unlock(
    db: &impl ConnectionTrait,
    actor: &Actor,
    at: DateTime<Utc>,
    user_id: i64,
    username: &str,
) -> AppResult<()> {
    record(
        db,
        actor,
        at,
        Event {
            action: UNLOCK,
            entity: "user",
            entity_id: Some(user_id),
            detail: Some(format!("user {}", username.trim().to_lowercase())),
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------- reading the trail

/// Filters of the audit trail (`GET /api/v1/audit-events` and the admin's audit page).
#[derive(Debug, Clone, Default, serde::Deserialize, validator::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only events done by this user name (as written in the trail, e.g. `taichinh`).
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub actor: Option<String>,
    /// Only events about this unit.
    #[validate(range(min = 1))]
    #[param(minimum = 1)]
    pub unit_id: Option<i64>,
    /// Only events about this kind of record: `asset`, `unit`, `user`, `campaign`,
    /// `registration`, `report`, `session`.
    #[validate(length(max = 50))]
    #[param(max_length = 50)]
    pub entity: Option<String>,
    /// Only this kind of change: `create`, `update`, `delete`, `submit`, `return`, `accept`,
    /// `register`, `password_reset`, `login`, …
    #[validate(length(max = 50))]
    #[param(max_length = 50)]
    pub action: Option<String>,
    /// From this local day (Asia/Ho_Chi_Minh), inclusive.
    pub from: Option<chrono::NaiveDate>,
    /// Up to this local day (Asia/Ho_Chi_Minh), inclusive.
    pub to: Option<chrono::NaiveDate>,
}

/// One event of the trail as the API shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditEventView {
    /// Id (events are listed newest first).
    pub id: i64,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who: the user's id (`null` for the system or an unknown name).
    pub actor_id: Option<i64>,
    /// Who: the user name.
    pub actor_name: Option<String>,
    /// Kind of change, e.g. `create`, `update`, `submit`.
    pub action: String,
    /// Kind of record, e.g. `asset`, `unit`.
    pub entity: String,
    /// Record id.
    pub entity_id: Option<i64>,
    /// Campaign concerned.
    pub campaign_id: Option<i64>,
    /// Unit concerned.
    pub unit_id: Option<i64>,
    /// The record before the change.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Free text (a reason, a file name, an address).
    pub detail: Option<String>,
}

impl From<audit_event::Model> for AuditEventView {
    fn from(m: audit_event::Model) -> Self {
        AuditEventView {
            id: m.id,
            at: m.at,
            actor_id: m.actor_id,
            actor_name: m.actor_name,
            action: m.action,
            entity: m.entity,
            entity_id: m.entity_id,
            campaign_id: m.campaign_id,
            unit_id: m.unit_id,
            before: m.before,
            after: m.after,
            detail: m.detail,
        }
    }
}

impl AuditFilter {
    /// Fails with a field error when the range ends before it starts.
    fn check(&self) -> AppResult<()> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            return Err(crate::error::AppError::field(
                "to",
                "range",
                "Ngày kết thúc không được trước ngày bắt đầu",
                "The last day cannot be before the first day",
            ));
        }
        Ok(())
    }
}

/// One page of the audit trail, newest first, with the filters applied, limited to `scope`: the
/// caller's part of the tree as a condition on the events (`tree::units_of` on their unit, so
/// that a ward's finance office reads only its units' events).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    scope: sea_orm::Condition,
    page: &crate::pagination::PageQuery,
) -> AppResult<crate::pagination::Page<AuditEventView>> {
    use sea_orm::{Condition, PaginatorTrait, QueryOrder};
    filter.check()?;
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut cond = Condition::all().add(scope);
    if let Some(a) = text(&filter.actor) {
        cond = cond.add(audit_event::Column::ActorName.eq(a));
    }
    if let Some(u) = filter.unit_id {
        cond = cond.add(audit_event::Column::UnitId.eq(u));
    }
    if let Some(e) = text(&filter.entity) {
        cond = cond.add(audit_event::Column::Entity.eq(e));
    }
    if let Some(a) = text(&filter.action) {
        cond = cond.add(audit_event::Column::Action.eq(a));
    }
    if let Some(d) = filter.from {
        // The end of the day before is the start of this one.
        let start = d
            .pred_opt()
            .map(crate::clock::deadline_end)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        cond = cond.add(audit_event::Column::At.gte(start));
    }
    if let Some(d) = filter.to {
        cond = cond.add(audit_event::Column::At.lt(crate::clock::deadline_end(d)));
    }
    let query = audit_event::Entity::find().filter(cond);
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_desc(audit_event::Column::Id)
        .offset(page.offset())
        .limit(page.per_page())
        .all(db)
        .await?
        .into_iter()
        .map(AuditEventView::from)
        .collect();
    Ok(crate::pagination::Page::new(items, page, total))
}
