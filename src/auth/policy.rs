//! Authorization, decided in one place for every route.
//!
//! Each operation's `#[utoipa::path(security(...))]` names the roles that may call
//! it (`security(("bearer" = ["admin", "finance_officer"]))`) or marks it public
//! (`security(())`). At start-up [`Policy::from_openapi`] reads those declarations
//! back from the generated document — refusing to start if an operation declares
//! nothing — and [`enforce`] applies them to every request:
//!
//! 1. no or invalid token → 401 with `WWW-Authenticate`;
//! 2. a unit the caller may not see (from `{unit_id}`, or the unit owning
//!    `{asset_id}`) → 404, so that other units' data is not even revealed to exist;
//! 3. a role not listed for the operation → 403.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State},
    http::{Method, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sea_orm::EntityTrait;

use super::{Actor, Role, sessions};
use crate::{entities::asset, error::AppError, state::AppState};

/// Who may call one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Authenticated users with one of these roles.
    Roles(Vec<Role>),
}

/// The access rule of every operation, keyed by method and path template.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    ops: HashMap<(Method, String), Access>,
}

impl Policy {
    /// Reads the security declarations of every operation in `doc`.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Result<Policy, String> {
        let json = serde_json::to_value(doc).map_err(|e| e.to_string())?;
        let mut ops = HashMap::new();
        let paths = json["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                let Some(security) = op.get("security").and_then(|s| s.as_array()) else {
                    return Err(format!(
                        "{method} {path} declares no security; add security(()) or the roles"
                    ));
                };
                let mut roles = Vec::new();
                let mut public = false;
                for req in security {
                    let Some(req) = req.as_object() else { continue };
                    if req.is_empty() {
                        public = true;
                    }
                    for scopes in req.values().filter_map(|v| v.as_array()) {
                        for s in scopes.iter().filter_map(|s| s.as_str()) {
                            roles.push(
                                Role::parse(s)
                                    .ok_or_else(|| format!("{method} {path}: unknown role {s}"))?,
                            );
                        }
                    }
                }
                let access = if public {
                    Access::Public
                } else {
                    Access::Roles(roles)
                };
                ops.insert((m, path.clone()), access);
            }
        }
        Ok(Policy { ops })
    }

    /// The rule for one operation.
    pub fn access(&self, method: &Method, path: &str) -> Option<&Access> {
        self.ops.get(&(method.clone(), path.to_string()))
    }
}

fn bearer(req: &Request) -> Option<String> {
    let value = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
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

/// Middleware applying the policy to every routed request.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, req: Request) -> Result<Request, AppError> {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let roles = match state.policy.access(req.method(), &path) {
        Some(Access::Public) => return Ok(req),
        Some(Access::Roles(r)) => r.clone(),
        None => Vec::new(),
    };
    let token = bearer(&req).ok_or_else(AppError::unauthorized)?;
    let actor = sessions::resolve(&state.db, &token, state.clock.now())
        .await?
        .ok_or_else(AppError::unauthorized)?;
    let (mut parts, body) = req.into_parts();
    check_scope(state, &actor, &mut parts).await?;
    if !roles.contains(&actor.role) {
        return Err(AppError::forbidden());
    }
    parts.extensions.insert(actor);
    Ok(Request::from_parts(parts, body))
}
