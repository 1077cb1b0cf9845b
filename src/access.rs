//! What the API and the web pages both check about a request before its handler runs: the
//! scope of its path ([`check_scope`]) and the client's address ([`ClientAddr`]).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, RawPathParams},
    http::request::Parts,
};
use sea_orm::EntityTrait;

use crate::{
    auth::{Actor, Scope, client},
    entities::asset,
    error::AppError,
    state::AppState,
    tree,
};

/// The client's network address: the TCP peer, or the client named in `X-Forwarded-For`
/// when the peer is one of `KIEMKE_TRUSTED_PROXIES` (see [`crate::auth::client`]).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientAddr("local".into()));
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(ClientAddr(
            client::client_address(peer, &forwarded, &state.settings.trusted_proxies.0).to_string(),
        ))
    }
}

/// Whether the row a path parameter names lies outside `actor`'s scope. A row that does not
/// exist is not hidden here: its handler answers the same 404.
async fn hidden(
    state: &AppState,
    actor: &Actor,
    name: &str,
    value: &str,
) -> Result<bool, AppError> {
    let Ok(id) = value.parse::<i64>() else {
        return Ok(false);
    };
    let scope = &actor.scope;
    if *scope == Scope::All {
        return Ok(false);
    }
    Ok(match name {
        "unit_id" => !tree::covers_unit(&state.db, scope, id).await?,
        "asset_id" => match asset::Entity::find_by_id(id).one(&state.db).await? {
            Some(a) => !tree::covers_unit(&state.db, scope, a.unit_id).await?,
            None => false,
        },
        "node_id" => !tree::sees_node(&state.db, scope, id).await?,
        _ => false,
    })
}

/// The scope of a routed request, for the API and the web pages alike: a `{unit_id}`, the unit
/// owning an `{asset_id}`, or a `{node_id}` of the administrative tree that `actor` may not see
/// (an accountant's other units; for a finance office or a chairman bound to a ward or a
/// province, anything outside that subtree — and for a node, the path up to it) answers the
/// very 404 of a missing row, so that hidden ids cannot be told apart from absent ones.
pub async fn check_scope(
    state: &AppState,
    actor: &Actor,
    parts: &mut Parts,
) -> Result<(), AppError> {
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
        return Ok(());
    };
    for (name, value) in params.iter() {
        if hidden(state, actor, name, value).await? {
            return Err(match name {
                "asset_id" => crate::assets::not_found(),
                "node_id" => tree::not_found(),
                _ => crate::units::not_found(),
            });
        }
    }
    Ok(())
}
