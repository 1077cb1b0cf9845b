//! `/api/v1/nodes`: the administrative tree above the units (provinces → communes/wards).

use axum::{Json, extract::State, http::StatusCode};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::Actor,
    error::{AppResult, ProblemDoc},
    pagination::{Page, PageQuery},
    state::AppState,
    tree::{self, NewNode, NodeFilter, NodePatch, NodeView},
};

/// Lists the provinces and communes/wards the caller may read (their subtree and the path up
/// to it); filter by parent, level or text in code and name.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "tree", params(NodeFilter, PageQuery),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Page<NodeView>), (status = 401, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_nodes(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(filter): ApiQuery<NodeFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<NodeView>>> {
    Ok(Json(
        tree::list(&state.db, &actor.scope, &filter, &page).await?,
    ))
}

/// Creates a province (2-digit code, no parent) or a commune/ward (5-digit code, under the
/// province `parent_code`). A code already in use gets 409.
#[utoipa::path(post, path = "/api/v1/nodes", tag = "tree", request_body = NewNode,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = NodeView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 415, body = ProblemDoc),
              (status = 422, body = ProblemDoc)))]
pub async fn create_node(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NewNode>,
) -> AppResult<(StatusCode, Json<NodeView>)> {
    Ok((
        StatusCode::CREATED,
        Json(tree::create(&state, &actor, input).await?),
    ))
}

/// One node; a node outside the caller's subtree (and the path up to it) answers 404.
#[utoipa::path(get, path = "/api/v1/nodes/{node_id}", tag = "tree",
    params(("node_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = NodeView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 404, body = ProblemDoc)))]
pub async fn get_node(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<NodeView>> {
    Ok(Json(tree::get(&state.db, &actor.scope, id).await?))
}

/// Changes a node's code or name. A code already in use gets 409.
#[utoipa::path(patch, path = "/api/v1/nodes/{node_id}", tag = "tree", request_body = NodePatch,
    params(("node_id" = i64, Path, minimum = 1)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = NodeView), (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc),
              (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
              (status = 415, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_node(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<NodePatch>,
) -> AppResult<Json<NodeView>> {
    Ok(Json(tree::update(&state, &actor, id, patch).await?))
}
