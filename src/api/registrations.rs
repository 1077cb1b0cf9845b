//! `/api/v1/campaigns/{campaign_id}/…/registration`: units' registrations.

use axum::{Json, extract::State, http::StatusCode};

use super::extract::{ApiJson, ApiPath};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    registrations::{self, RegistrationInput, RegistrationView},
    state::AppState,
};

/// A unit's registration: its inventory team and the asset types it will inventory.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/registration", tag = "registrations",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = RegistrationView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_registration(
    State(state): State<AppState>,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
) -> AppResult<Json<RegistrationView>> {
    Ok(Json(
        registrations::get(&state, campaign_id, unit_id).await?,
    ))
}

/// Registers a unit, or replaces its registration. The first registration records the
/// instant and whether it was on time; changing the types after the deadline is allowed and counted.
#[utoipa::path(put, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/registration", tag = "registrations",
    request_body = RegistrationInput,
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant"])),
    responses((status = 200, body = RegistrationView, description = "Replaced"),
              (status = 201, body = RegistrationView, description = "Registered"),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn put_registration(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<RegistrationInput>,
) -> AppResult<(StatusCode, Json<RegistrationView>)> {
    let (view, created) = registrations::put(&state, &actor, campaign_id, unit_id, input).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(view),
    ))
}

/// Every registration of a campaign (an accountant sees only their own units).
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/registrations", tag = "registrations",
    params(("campaign_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Vec<RegistrationView>), (status = 400, body = ProblemDoc),
              (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn list_registrations(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(campaign_id): ApiPath<i64>,
) -> AppResult<Json<Vec<RegistrationView>>> {
    Ok(Json(
        registrations::list(&state, &actor, campaign_id).await?,
    ))
}
