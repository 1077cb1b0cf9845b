//! `/api/v1/audit-events`: the audit trail (the admin and the finance office).

use axum::{Json, extract::State};

use super::extract::ApiQuery;
use crate::{
    audit::{self, AuditEventView, AuditFilter},
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
};

/// Every recorded change, newest first: who, when, the record before and after. Filter by
/// user name, unit, kind of record, kind of change and a range of local days; paginated.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditFilter, PageQuery),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = Page<AuditEventView>), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<AuditFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<AuditEventView>>> {
    Ok(Json(audit::list(&state.db, &filter, &page).await?))
}
