//! `/api/v1/audit-events`: the audit trail (the admin and the finance office).

use axum::{Json, extract::State};

use super::extract::ApiQuery;
use crate::{
    audit::{self, AuditEventView, AuditFilter},
    auth::Actor,
    entities::audit_event,
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
    tree,
};

/// Every recorded change, newest first: who, when, the record before and after. Filter by
/// user name, unit, kind of record, kind of change and a range of local days; paginated. A
/// finance officer bound to a ward or a province reads only the events of its units.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditFilter, PageQuery),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = Page<AuditEventView>), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(filter): ApiQuery<AuditFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<AuditEventView>>> {
    let scope = tree::units_of(audit_event::Column::UnitId, &actor.scope);
    Ok(Json(audit::list(&state.db, &filter, scope, &page).await?))
}
