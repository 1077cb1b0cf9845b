//! `GET /health`: is the service up, and can it reach its database?

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{db, state::AppState};

/// Health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
    /// Whether the database answered just now.
    pub database_reachable: bool,
    /// Service version.
    pub version: &'static str,
}

/// Reports the service and database state (public).
#[utoipa::path(get, path = "/health", tag = "system", security(()),
    responses((status = 200, body = Health, description = "Up and the database answers"),
              (status = 503, body = Health, description = "Up, but the database does not answer")))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    // Bounded, so that a probe gets its answer even while the database hangs or the
    // pool waits for a server that is down.
    let ping = state.db.execute_unprepared("SELECT 1");
    let reachable = matches!(
        tokio::time::timeout(std::time::Duration::from_secs(3), ping).await,
        Ok(Ok(_))
    );
    let body = Health {
        status: if reachable { "ok" } else { "degraded" },
        database: db::backend_name(&state.db),
        database_reachable: reachable,
        version: env!("CARGO_PKG_VERSION"),
    };
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
