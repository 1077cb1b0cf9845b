//! `/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports`: submitting and reviewing reports.

use axum::{Json, extract::State};

use super::extract::{ApiJson, ApiPath, OptionalJson};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    reports::{self, ExtensionRequest, ReportView, ReturnRequest, SubmitRequest},
    state::AppState,
};

/// A unit's reports in a campaign: one per registered asset type, with state and deadline.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Vec<ReportView>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn list_reports(
    State(state): State<AppState>,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
) -> AppResult<Json<Vec<ReportView>>> {
    Ok(Json(reports::list(&state, campaign_id, unit_id).await?))
}

/// One report, with what changed since it was returned.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("asset_type" = String, Path, pattern = "^[0-9]{2}a?$", description = "Asset type (`01`) or its form code (`01a`)")),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = ReportView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_report(
    State(state): State<AppState>,
    ApiPath((campaign_id, unit_id, asset_type)): ApiPath<(i64, i64, String)>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        reports::get(
            &state,
            campaign_id,
            unit_id,
            &state.forms.type_code(&asset_type),
        )
        .await?,
    ))
}

/// Submits a report. Every record is checked first (422 lists every problem as
/// `assets[CODE].field`); on success the records are frozen in a snapshot with a SHA-256
/// digest and locked. `{"nil_return": true}` sends an empty report ("không phát sinh").
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/submit", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("asset_type" = String, Path, pattern = "^[0-9]{2}a?$", description = "Asset type (`01`) or its form code (`01a`)")),
    request_body(content = Option<SubmitRequest>, description = "Optional; empty body means a normal submission"),
    security(("bearer" = ["admin", "unit_accountant"])),
    responses((status = 200, body = ReportView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn submit_report(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id, asset_type)): ApiPath<(i64, i64, String)>,
    OptionalJson(req): OptionalJson<SubmitRequest>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        reports::submit(
            &state,
            &actor,
            campaign_id,
            unit_id,
            &state.forms.type_code(&asset_type),
            &req,
        )
        .await?,
    ))
}

/// Returns a submitted report for correction, with a reason and optional comments on assets; its records unlock.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/return", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("asset_type" = String, Path, pattern = "^[0-9]{2}a?$", description = "Asset type (`01`) or its form code (`01a`)")),
    request_body = ReturnRequest,
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = ReportView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn return_report(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id, asset_type)): ApiPath<(i64, i64, String)>,
    ApiJson(req): ApiJson<ReturnRequest>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        reports::return_report(
            &state,
            &actor,
            campaign_id,
            unit_id,
            &state.forms.type_code(&asset_type),
            &req,
        )
        .await?,
    ))
}

/// Accepts a submitted report; its records stay locked.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/reports/{asset_type}/accept", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("asset_type" = String, Path, pattern = "^[0-9]{2}a?$", description = "Asset type (`01`) or its form code (`01a`)")),
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = ReportView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn accept_report(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id, asset_type)): ApiPath<(i64, i64, String)>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        reports::accept(
            &state,
            &actor,
            campaign_id,
            unit_id,
            &state.forms.type_code(&asset_type),
        )
        .await?,
    ))
}

/// Grants a unit a later submission deadline (all its reports in the campaign), with a reason.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/extension", tag = "reports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    request_body = ExtensionRequest,
    security(("bearer" = ["admin", "finance_officer"])),
    responses((status = 200, body = Vec<ReportView>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn grant_extension(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<ExtensionRequest>,
) -> AppResult<Json<Vec<ReportView>>> {
    Ok(Json(
        reports::grant_extension(&state, &actor, campaign_id, unit_id, &req).await?,
    ))
}
