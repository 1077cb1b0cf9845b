//! The policy's request guard: [`enforce`] applies [`Policy`] to every routed request.
//!
//! 1. no or invalid token → 401 with `WWW-Authenticate`;
//! 2. a unit the caller may not see (from `{unit_id}`, or the unit owning
//!    `{asset_id}`) → 404, so that other units' data is not even revealed to exist;
//! 3. a role not listed for the operation → 403.
//!
//! [`Policy`]: crate::auth::policy::Policy

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    access::check_scope, auth::policy::Access, error::AppError, sessions, state::AppState,
};

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
