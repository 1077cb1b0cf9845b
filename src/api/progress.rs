//! `/api/v1/campaigns/{campaign_id}/progress`: the finance office's board.

use axum::Json;

use super::extract::{ApiPath, ApiQuery};
use crate::{
    error::{AppResult, ProblemDoc},
    pagination::PageQuery,
    progress::{self, Board, BoardAfter, ProgressFilter, Reminder, ReminderQuery, Summary},
    replica::Reader,
};

/// Who registered, who sent, who is late: counts over every obligation, totals by type,
/// and one row per unit (filter rows by state, asset type, overdue; paginated).
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/progress", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1), ProgressFilter, PageQuery, BoardAfter),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, body = Board), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_progress(
    Reader(state): Reader,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<ProgressFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(after): ApiQuery<BoardAfter>,
) -> AppResult<Json<Board>> {
    Ok(Json(
        progress::board_after(&state, campaign_id, &filter, &page, after.after.as_deref()).await?,
    ))
}

/// The inventory paragraph for the ward's quarterly report, in Vietnamese.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/progress/summary", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, body = Summary), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_summary(
    Reader(state): Reader,
    ApiPath(campaign_id): ApiPath<i64>,
) -> AppResult<Json<Summary>> {
    Ok(Json(progress::summary(&state, campaign_id).await?))
}

/// Units that still owe a report, with the types owed and days left (machine-readable, for whoever sends reminders).
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/reminders", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1), ReminderQuery),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = Vec<Reminder>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_reminders(
    Reader(state): Reader,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReminderQuery>,
) -> AppResult<Json<Vec<Reminder>>> {
    Ok(Json(
        progress::reminders(&state, campaign_id, q.within_days).await?,
    ))
}
