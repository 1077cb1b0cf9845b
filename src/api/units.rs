//! `/api/v1/units`: reporting units.

use axum::{Json, extract::State, http::StatusCode};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
    units::{self, NewUnit, UnitFilter, UnitPatch, UnitView},
};

/// Lists units (an accountant sees only their own); filter by kind, activity, or text in name/code.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitFilter, PageQuery),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Page<UnitView>), (status = 401, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_units(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(filter): ApiQuery<UnitFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<UnitView>>> {
    Ok(Json(units::list(&state, &actor, &filter, &page).await?))
}

/// Creates a unit. A budget relationship code already in use gets 409.
#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = NewUnit,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = UnitView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn create_unit(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NewUnit>,
) -> AppResult<(StatusCode, Json<UnitView>)> {
    Ok((
        StatusCode::CREATED,
        Json(units::create(&state, &actor, input).await?),
    ))
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/units/{unit_id}", tag = "units",
    params(("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = UnitView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_unit(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UnitView>> {
    let m = units::get(&state.db, id).await?;
    Ok(Json(units::view(&state.db, m).await?))
}

/// Changes a unit; `"active": false` deactivates it and keeps its data.
#[utoipa::path(patch, path = "/api/v1/units/{unit_id}", tag = "units", request_body = UnitPatch,
    params(("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = UnitView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_unit(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UnitPatch>,
) -> AppResult<Json<UnitView>> {
    Ok(Json(units::update(&state, &actor, id, patch).await?))
}

/// Deletes a unit that holds no data; a unit with data gets 409 and must be deactivated instead.
#[utoipa::path(delete, path = "/api/v1/units/{unit_id}", tag = "units",
    params(("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 204), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn delete_unit(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    units::delete(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
