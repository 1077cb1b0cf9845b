//! Logging in and out: bearer tokens that are random, stored only as a SHA-256
//! hash, and expire; failed logins slow down per user and per address.

use std::{collections::HashMap, sync::Mutex};

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

use super::{Actor, Role, password};
use crate::{
    audit,
    entities::{session, user, user_unit},
    error::{AppError, AppResult},
    state::AppState,
};

/// Failures allowed within the window before a user or an address is locked out.
const MAX_FAILURES: u32 = 5;
/// Failures allowed per address (shared by everyone behind it, e.g. an office NAT).
const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// How long failures are remembered and a lockout lasts.
const WINDOW_MINUTES: i64 = 15;

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

/// Remembers recent failed logins per user name and per address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

impl LoginLimiter {
    fn locked(&self, key: &str, max: u32, now: DateTime<Utc>) -> Option<i64> {
        let map = self.failures.lock().ok()?;
        let (count, first) = map.get(key)?;
        let until = *first + Duration::minutes(WINDOW_MINUTES);
        (*count >= max && now < until).then(|| (until - now).num_seconds().max(1))
    }

    fn fail(&self, key: &str, now: DateTime<Utc>) {
        if let Ok(mut map) = self.failures.lock() {
            let entry = map.entry(key.to_string()).or_insert((0, now));
            if now >= entry.1 + Duration::minutes(WINDOW_MINUTES) {
                *entry = (0, now);
            }
            entry.0 += 1;
            if map.len() > 100_000 {
                map.retain(|_, (_, first)| now < *first + Duration::minutes(WINDOW_MINUTES));
            }
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn locked_out(seconds: i64) -> AppError {
    let minutes = (seconds + 59) / 60;
    AppError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "too-many-requests",
        format!("Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {minutes} phút."),
        format!("Too many failed logins; try again in {minutes} minute(s)."),
    )
}

fn bad_credentials() -> AppError {
    AppError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong user name or password.",
    )
}

/// Checks credentials and opens a session. Unknown users and wrong passwords get the same answer.
pub async fn login(
    state: &AppState,
    req: &LoginRequest,
    address: &str,
) -> AppResult<LoginResponse> {
    let now = state.clock.now();
    let name = req.username.trim().to_lowercase();
    let user_key = format!("user:{name}");
    let addr_key = format!("addr:{address}");
    if let Some(s) = state
        .limiter
        .locked(&user_key, MAX_FAILURES, now)
        .or_else(|| {
            state
                .limiter
                .locked(&addr_key, MAX_FAILURES_PER_ADDRESS, now)
        })
    {
        return Err(locked_out(s));
    }
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(name.clone()))
        .one(&state.db)
        .await?;
    let ok = match &found {
        Some(u) => password::verify(&req.password, &u.password_hash) && u.active,
        None => {
            password::verify(&req.password, &state.decoy_hash);
            false
        }
    };
    let Some(u) = found.filter(|_| ok) else {
        state.limiter.fail(&user_key, now);
        state.limiter.fail(&addr_key, now);
        audit::record_login(&state.db, now, None, &name, "login_failed", address).await?;
        return Err(bad_credentials());
    };
    state.limiter.clear(&user_key);
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
        .from(session::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((session::Entity, session::Column::UserId)),
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
    Ok(Some(Actor {
        user_id: s.user_id,
        username: s.username,
        role,
        unit_ids,
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
