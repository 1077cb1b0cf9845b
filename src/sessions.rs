//! Logging in and out: bearer tokens that are random, stored only as a SHA-256
//! hash, and expire; failed logins slow down per user and per address.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set,
    sea_query::{Expr, Query},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::{
    audit,
    auth::{
        Actor, Role, Scope, password,
        throttle::{Attempt, Refusal},
    },
    entities::{admin_node, session, user, user_unit},
    error::{AppError, AppResult},
    state::AppState,
};

/// `POST /auth/login` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    /// Login name.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// Password.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

/// A new access token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working (UTC).
    pub expires_at: DateTime<Utc>,
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A login (or a password check) that did not open a session.
#[derive(Debug)]
pub enum LoginError {
    /// Not even tried: a limit is reached (429) or every password-check slot is busy (503).
    Refused(Refusal),
    /// Tried and failed (401, 422), or the database failed.
    Failed(AppError),
}

impl From<AppError> for LoginError {
    fn from(e: AppError) -> Self {
        LoginError::Failed(e)
    }
}

impl From<sea_orm::DbErr> for LoginError {
    fn from(e: sea_orm::DbErr) -> Self {
        LoginError::Failed(e.into())
    }
}

impl LoginError {
    /// Seconds to wait before trying again, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            LoginError::Refused(r) => Some(r.retry_after()),
            LoginError::Failed(_) => None,
        }
    }

    /// The problem to show.
    pub fn into_app_error(self) -> AppError {
        match self {
            LoginError::Refused(Refusal::Locked { retry_after }) => {
                let minutes = retry_after.div_ceil(60);
                let (vi, en) = if retry_after < 60 {
                    (
                        format!(
                            "Đăng nhập sai nhiều lần; vui lòng thử lại sau {retry_after} giây."
                        ),
                        format!("Too many failed logins; try again in {retry_after} second(s)."),
                    )
                } else {
                    (
                        format!(
                            "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {minutes} phút."
                        ),
                        format!("Too many failed logins; try again in {minutes} minute(s)."),
                    )
                };
                AppError::new(crate::error::Problem::TooManyRequests, vi, en)
            }
            LoginError::Refused(Refusal::Busy { retry_after }) => AppError::new(
                crate::error::Problem::Unavailable,
                format!(
                    "Máy chủ đang bận kiểm tra mật khẩu của nhiều lượt đăng nhập; vui lòng thử lại sau {retry_after} giây."
                ),
                format!(
                    "The server is busy checking passwords of other logins; try again in {retry_after} second(s)."
                ),
            ),
            LoginError::Failed(e) => e,
        }
    }
}

impl axum::response::IntoResponse for LoginError {
    fn into_response(self) -> axum::response::Response {
        let retry = self.retry_after();
        let mut res = self.into_app_error().into_response();
        if let Some(s) = retry {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        res
    }
}

fn bad_credentials() -> AppError {
    AppError::new(
        crate::error::Problem::Unauthorized,
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong user name or password.",
    )
}

/// Counts an attempt of `name` from `address` before any password is checked (see
/// [`crate::auth::throttle`]). When the attempt is refused, operators' unlocks recorded in the audit
/// trail since the last look (`kiemke unlock`, at most one look every few seconds) are applied
/// first, and the attempt is tried again if its name was among them.
pub async fn begin_attempt(
    state: &AppState,
    name: &str,
    address: &str,
) -> Result<Attempt, LoginError> {
    let now = state.clock.now();
    match state.limiter.begin_waiting(name, address, now).await {
        Ok(a) => Ok(a),
        Err(Refusal::Locked { retry_after }) => {
            let Some(after) = state.limiter.unlock_poll_due(now) else {
                return Err(LoginError::Refused(Refusal::Locked { retry_after }));
            };
            let (last, names) = audit::unlocks_after(&state.db, after).await?;
            state.limiter.unlock_polled(last);
            for n in &names {
                state.limiter.unlock(n);
            }
            let wanted = name.trim().to_lowercase();
            if names.contains(&wanted) {
                state
                    .limiter
                    .begin_waiting(name, address, now)
                    .await
                    .map_err(LoginError::Refused)
            } else {
                Err(LoginError::Refused(Refusal::Locked { retry_after }))
            }
        }
        Err(r) => Err(LoginError::Refused(r)),
    }
}

/// Records a failed attempt: one audit row per (name, address) and window, with its count.
pub async fn record_failure(
    state: &AppState,
    attempt: Attempt,
    name: &str,
    address: &str,
) -> AppResult<()> {
    let now = state.clock.now();
    let failure = attempt.failed(now);
    audit::record_login_failure(
        &state.db,
        now,
        name,
        address,
        failure.count,
        failure.window_start,
    )
    .await
}

/// Checks credentials and opens a session. Unknown users and wrong passwords get the same answer.
///
/// The attempt is counted before the password is checked ([`begin_attempt`]), the check runs
/// on a blocking thread in one of the limiter's slots, and a success takes the attempt back.
/// The web UI's cookie login calls this same function.
pub async fn login(
    state: &AppState,
    req: &LoginRequest,
    address: &str,
) -> Result<LoginResponse, LoginError> {
    let name = req.username.trim().to_lowercase();
    let attempt = begin_attempt(state, &name, address).await?;
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(name.clone()))
        .one(&state.db)
        .await?;
    let ok = match &found {
        Some(u) => password::verify_blocking(&req.password, &u.password_hash).await? && u.active,
        None => {
            password::verify_blocking(&req.password, &state.decoy_hash).await?;
            false
        }
    };
    let Some(u) = found.filter(|_| ok) else {
        record_failure(state, attempt, &name, address).await?;
        return Err(bad_credentials().into());
    };
    attempt.succeeded();
    let now = state.clock.now();
    let token = format!("kk_{}", hex::encode(rand::rng().random::<[u8; 32]>()));
    let expires_at = now + Duration::hours(state.settings.token_hours);
    session::ActiveModel {
        user_id: Set(u.id),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    audit::record_login(&state.db, now, Some(u.id), &u.username, "login", address).await?;
    Ok(LoginResponse { token, expires_at })
}

/// A session with its user, as one query reads them.
#[derive(Debug, FromQueryResult)]
struct SessionUser {
    session_id: i64,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    user_id: i64,
    username: String,
    role: String,
    active: bool,
    node_id: Option<i64>,
    node_level: Option<String>,
}

/// Resolves a bearer token to its actor; `None` when missing, unknown, expired, revoked or the user is inactive.
///
/// Every authenticated request runs this: one query reads the session and its user, and a
/// second reads the units of a unit accountant (the other roles have none). Nothing is cached,
/// so a logout, a password change or a deactivation takes effect on the very next request.
pub async fn resolve(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Actor>> {
    use sea_orm::ExprTrait;
    let query = Query::select()
        .expr_as(
            Expr::col((session::Entity, session::Column::Id)),
            "session_id",
        )
        .column((session::Entity, session::Column::RevokedAt))
        .column((session::Entity, session::Column::ExpiresAt))
        .expr_as(Expr::col((user::Entity, user::Column::Id)), "user_id")
        .column((user::Entity, user::Column::Username))
        .column((user::Entity, user::Column::Role))
        .column((user::Entity, user::Column::Active))
        .column((user::Entity, user::Column::NodeId))
        .expr_as(
            Expr::col((admin_node::Entity, admin_node::Column::Level)),
            "node_level",
        )
        .from(session::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((session::Entity, session::Column::UserId)),
        )
        .left_join(
            admin_node::Entity,
            Expr::col((admin_node::Entity, admin_node::Column::Id))
                .equals((user::Entity, user::Column::NodeId)),
        )
        .and_where(Expr::col((session::Entity, session::Column::TokenHash)).eq(token_hash(token)))
        .take();
    let Some(s) = SessionUser::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if s.revoked_at.is_some() || s.expires_at <= now {
        return Ok(None);
    }
    let Some(role) = Role::parse(&s.role).filter(|_| s.active) else {
        return Ok(None);
    };
    let unit_ids = if role == Role::UnitAccountant {
        user_unit::Entity::find()
            .filter(user_unit::Column::UserId.eq(s.user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.unit_id)
            .collect()
    } else {
        vec![]
    };
    let scope = match (role, s.node_id, s.node_level.as_deref()) {
        (Role::UnitAccountant, ..) => Scope::Units(unit_ids.clone()),
        (Role::Admin, ..) | (_, None, _) => Scope::All,
        (_, Some(id), Some("province")) => Scope::Province(id),
        (_, Some(id), _) => Scope::Ward(id),
    };
    Ok(Some(Actor {
        user_id: s.user_id,
        username: s.username,
        role,
        unit_ids,
        scope,
        session_id: s.session_id,
    }))
}

/// Revokes the caller's session.
pub async fn logout(state: &AppState, actor: &Actor) -> AppResult<()> {
    let now = state.clock.now();
    session::ActiveModel {
        id: Set(actor.session_id),
        revoked_at: Set(Some(now)),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    audit::record_login(
        &state.db,
        now,
        Some(actor.user_id),
        &actor.username,
        "logout",
        "",
    )
    .await?;
    Ok(())
}

/// Revokes every open session of a user (password change or reset, deactivation).
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
