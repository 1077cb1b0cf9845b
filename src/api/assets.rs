//! `/api/v1/…/assets`: the asset register.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::extract::{ApiPath, ApiQuery, RawJson};
use crate::{
    assets::{self, AssetFilter, AssetView, HistoryEntry},
    auth::Actor,
    error::{AppError, AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    reports::{self, UnitTotals},
    state::AppState,
};

fn with_etag(status: StatusCode, view: AssetView) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", view.version)).ok();
    let mut res = (status, Json(view)).into_response();
    if let Some(e) = etag {
        res.headers_mut().insert(header::ETAG, e);
    }
    res
}

/// The version named by `If-Match: "3"` (or `W/"3"`), if any.
fn if_match(headers: &HeaderMap) -> AppResult<Option<i32>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|s| s.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            AppError::bad_request(
                "Tiêu đề If-Match phải là ETag của tài sản, ví dụ \"3\".",
                "If-Match must be the asset's ETag, e.g. \"3\".",
            )
        })
}

/// Lists a unit's assets in a campaign: filter by type, section, status, origin, text; sort; paginate.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/assets", tag = "assets",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1), AssetFilter, PageQuery),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Page<AssetView>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_assets(
    State(state): State<AppState>,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
    ApiQuery(filter): ApiQuery<AssetFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<AssetView>>> {
    Ok(Json(
        assets::list(&state, campaign_id, unit_id, &filter, &page).await?,
    ))
}

/// Enters an asset. The body carries `asset_type` (e.g. `"01"`), the common fields at the top
/// level and the form's own fields under `fields` (see `GET /api/v1/forms/{form_code}`).
/// Every broken rule is listed; nothing is stored unless all pass.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/assets", tag = "assets",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    request_body(content = Object, description = "Asset: asset_type, common fields, fields {…}"),
    security(("bearer" = ["admin", "unit_accountant"])),
    responses((status = 201, body = AssetView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_asset(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
    RawJson(body): RawJson,
) -> AppResult<Response> {
    let view = assets::create(&state, &actor, campaign_id, unit_id, &body).await?;
    Ok(with_etag(StatusCode::CREATED, view))
}

/// One asset, with its version as the ETag.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}", tag = "assets",
    params(("asset_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = AssetView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_asset(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    Ok(with_etag(StatusCode::OK, assets::get(&state, id).await?))
}

/// Changes an asset. Send the version it is based on (`If-Match` or `version`); a stale
/// version gets 409 and changes nothing, a missing one 428.
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}", tag = "assets",
    params(("asset_id" = i64, Path, minimum = 1), ("If-Match" = Option<String>, Header, description = "ETag of the version being edited")),
    request_body(content = Object, description = "Fields to change (null clears), optionally version"),
    security(("bearer" = ["admin", "unit_accountant"])),
    responses((status = 200, body = AssetView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc), (status = 428, body = ProblemDoc)))]
pub async fn update_asset(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    RawJson(body): RawJson,
) -> AppResult<Response> {
    let view = assets::update(&state, &actor, id, &body, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Deletes an asset (optionally only if it is still at the `If-Match` version).
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}", tag = "assets",
    params(("asset_id" = i64, Path, minimum = 1), ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted")),
    security(("bearer" = ["admin", "unit_accountant"])),
    responses((status = 204), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn delete_asset(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    assets::delete(&state, &actor, id, if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who changed the asset, when, and the record before and after each change (read-only).
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/history", tag = "assets",
    params(("asset_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn asset_history(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<HistoryEntry>>> {
    Ok(Json(assets::history(&state, &actor, id).await?))
}

/// A unit's totals per asset type and section: count, original cost by source, depreciation,
/// remaining value and counts by usage status — exact sums of the records.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/totals", tag = "assets",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = UnitTotals), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn unit_totals(
    State(state): State<AppState>,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
) -> AppResult<Json<UnitTotals>> {
    Ok(Json(reports::totals(&state, campaign_id, unit_id).await?))
}
