//! `/api/v1/campaigns`: inventory campaigns.

use axum::{Json, extract::State, http::StatusCode};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::Actor,
    campaigns::{self, CampaignPatch, CampaignView, NewCampaign},
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
};

/// Lists campaigns, newest cut-off first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(PageQuery),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Page<CampaignView>), (status = 401, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<CampaignView>>> {
    Ok(Json(campaigns::list(&state, &page).await?))
}

/// Creates a campaign.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = NewCampaign,
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 201, body = CampaignView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NewCampaign>,
) -> AppResult<(StatusCode, Json<CampaignView>)> {
    Ok((
        StatusCode::CREATED,
        Json(campaigns::create(&state, &actor, input).await?),
    ))
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}", tag = "campaigns",
    params(("campaign_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = CampaignView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_campaign(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CampaignView>> {
    Ok(Json(campaigns::get(&state.db, id).await?.into()))
}

/// Changes a campaign (name, cut-off, deadlines, status).
#[utoipa::path(patch, path = "/api/v1/campaigns/{campaign_id}", tag = "campaigns", request_body = CampaignPatch,
    params(("campaign_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = CampaignView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn update_campaign(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<CampaignPatch>,
) -> AppResult<Json<CampaignView>> {
    Ok(Json(campaigns::update(&state, &actor, id, patch).await?))
}
