//! `/api/v1/users`: accounts (admin only).

use axum::{Json, extract::State, http::StatusCode};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
    users::{self, NewUser, PasswordReset, UserPatch, UserView},
};

/// Lists accounts with their role and units.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Page<UserView>), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<UserView>>> {
    Ok(Json(users::list(&state, &page).await?))
}

/// Creates an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = UserView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NewUser>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(users::create(&state, &actor, input).await?),
    ))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = UserView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::get(&state.db, id).await?))
}

/// Changes an account (name, contact, role, units, active).
#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "users", request_body = UserPatch,
    params(("user_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = UserView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::update(&state, &actor, id, patch).await?))
}

/// Sets an account's password (admin reset); the user's sessions end.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/password", tag = "users", request_body = PasswordReset,
    params(("user_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 204), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn reset_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PasswordReset>,
) -> AppResult<StatusCode> {
    users::reset_password(&state, &actor, id, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}
