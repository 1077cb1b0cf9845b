//! `/api/v1/campaigns/{campaign_id}/progress`: the finance office's board, for any node of the
//! tree in the caller's scope (`?node=`).

use axum::Json;

use super::extract::{ApiPath, ApiQuery};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    pagination::PageQuery,
    progress::{
        self, Board, BoardAfter, NodeQuery, ProgressFilter, Reminder, ReminderQuery, Summary,
    },
    replica::Reader,
};

/// Who registered, who sent, who is late: counts over every obligation, totals by type,
/// and one row per unit (filter rows by state, asset type, overdue; paginated). `node=` shows
/// a ward (its units) or a province (one row per ward in `areas`, with the province's totals)
/// in the caller's scope; installation-wide accounts see one row per province.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/progress", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1), NodeQuery, ProgressFilter, PageQuery, BoardAfter),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, body = Board), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_progress(
    Reader(state): Reader,
    actor: Actor,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(node): ApiQuery<NodeQuery>,
    ApiQuery(filter): ApiQuery<ProgressFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(after): ApiQuery<BoardAfter>,
) -> AppResult<Json<Board>> {
    let v = progress::view(&state, &actor, node.node).await?;
    Ok(Json(
        progress::board_of(
            &state,
            &v,
            campaign_id,
            &filter,
            &page,
            after.after.as_deref(),
        )
        .await?,
    ))
}

/// The inventory paragraph for the quarterly report, in Vietnamese: a ward's, or a province's
/// naming each ward's figures (`node=`, as on the board).
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/progress/summary", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1), NodeQuery),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, body = Summary), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_summary(
    Reader(state): Reader,
    actor: Actor,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(node): ApiQuery<NodeQuery>,
) -> AppResult<Json<Summary>> {
    let v = progress::view(&state, &actor, node.node).await?;
    Ok(Json(
        progress::summary_and_board_of(&state, &v, campaign_id)
            .await?
            .0,
    ))
}

/// Units that still owe a report, with the types owed and days left (machine-readable, for
/// whoever sends reminders); `node=`: that ward's or province's units, as on the board.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/reminders", tag = "progress",
    params(("campaign_id" = i64, Path, minimum = 1), NodeQuery, ReminderQuery),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = Vec<Reminder>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_reminders(
    Reader(state): Reader,
    actor: Actor,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(node): ApiQuery<NodeQuery>,
    ApiQuery(q): ApiQuery<ReminderQuery>,
) -> AppResult<Json<Vec<Reminder>>> {
    let v = progress::view(&state, &actor, node.node).await?;
    Ok(Json(
        progress::reminders_of(&state, &v, campaign_id, q.within_days).await?,
    ))
}
