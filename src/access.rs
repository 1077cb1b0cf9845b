//! What the API and the web pages both check about a request before its handler runs: the
//! unit scope of its path ([`check_scope`]) and the client's address ([`ClientAddr`]).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, RawPathParams},
    http::request::Parts,
};
use sea_orm::EntityTrait;

use crate::{
    auth::{Actor, client},
    entities::asset,
    error::AppError,
    state::AppState,
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

/// The unit a path parameter points into, if it names one.
async fn unit_of(state: &AppState, name: &str, value: &str) -> Result<Option<i64>, AppError> {
    let Ok(id) = value.parse::<i64>() else {
        return Ok(None);
    };
    Ok(match name {
        "unit_id" => Some(id),
        "asset_id" => asset::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(|a| a.unit_id),
        _ => None,
    })
}

/// The unit scope of a routed request, for the API and the web pages alike: a `{unit_id}`,
/// or the unit owning an `{asset_id}`, that `actor` may not see answers the very 404 of a
/// missing row, so that hidden ids cannot be told apart from absent ones.
pub async fn check_scope(
    state: &AppState,
    actor: &Actor,
    parts: &mut Parts,
) -> Result<(), AppError> {
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
        return Ok(());
    };
    for (name, value) in params.iter() {
        if let Some(unit_id) = unit_of(state, name, value).await?
            && !actor.sees_unit(unit_id)
        {
            return Err(match name {
                "asset_id" => crate::assets::not_found(),
                _ => crate::units::not_found(),
            });
        }
    }
    Ok(())
}
