//! `/api/v1/auth/*` and `/api/v1/me`: logging in and out, one's own account.

use axum::{Json, extract::State, http::StatusCode};

use super::extract::ApiJson;
use crate::{
    access::ClientAddr,
    auth::Actor,
    error::{AppResult, ProblemDoc},
    sessions::{self, LoginError, LoginRequest, LoginResponse},
    state::AppState,
    users::{self, PasswordChange, UserView},
};

/// Exchanges a user name and password for a bearer token. Unknown users and wrong
/// passwords get the same 401. Failures are throttled per (name, address), per address and per name
/// (429 with `Retry-After`); when every password-check slot is busy the answer is 503 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc), (status = 429, body = ProblemDoc),
              (status = 503, body = ProblemDoc)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, LoginError> {
    Ok(Json(sessions::login(&state, &req, &addr).await?))
}

/// Ends the session of the token sent with the request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 204), (status = 401, body = ProblemDoc)))]
pub async fn logout(State(state): State<AppState>, actor: Actor) -> AppResult<StatusCode> {
    sessions::logout(&state, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account, role and units.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = UserView), (status = 401, body = ProblemDoc)))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> AppResult<Json<UserView>> {
    Ok(Json(users::get(&state.db, actor.user_id).await?))
}

/// Changes the caller's password; every session of the account ends, so log in again. A wrong
/// current password counts as a failed login (same throttle: 429/503 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 204), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc), (status = 429, body = ProblemDoc),
              (status = 503, body = ProblemDoc)))]
pub async fn change_password(
    State(state): State<AppState>,
    actor: Actor,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, LoginError> {
    users::change_own_password(&state, &actor, &req, &addr).await?;
    Ok(StatusCode::NO_CONTENT)
}
