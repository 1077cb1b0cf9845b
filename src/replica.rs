//! The read replica (`KIEMKE_READ_DATABASE_URL`): which pool a read-only request reads from,
//! and the bookkeeping that keeps a user's own writes visible to them.
//!
//! The board, the summary, the reminders and the exports read from the replica
//! ([`reader`]); everything else, and every write, uses the primary (`AppState::db`). A hot
//! standby replays the primary's WAL a little behind it, so after a user writes (any API call
//! or page post other than GET/HEAD/OPTIONS, [`note_writes`]) the primary's WAL insert position
//! is remembered for that user; their reads go to the replica only once the replica has replayed
//! past it, to the primary until then. docs/ARCHITECTURE.md explains the scheme.

use std::sync::{Arc, atomic::Ordering};

use axum::{
    extract::{FromRequestParts, Request, State},
    http::request::Parts,
    middleware::Next,
    response::Response,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

use crate::{
    auth::Actor,
    error::AppError,
    state::{AppState, Replica},
};

/// The primary's WAL insert position, in bytes from the start of the WAL: every transaction
/// committed before the call ends at or before it.
const PRIMARY_LSN: &str =
    "SELECT CAST(pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS BIGINT) AS lsn";
/// How far the standby has replayed (NULL on a server that is not a standby).
const REPLAYED_LSN: &str = "SELECT CAST(pg_last_wal_replay_lsn() - '0/0'::pg_lsn AS BIGINT) AS lsn";

/// Where a read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The primary (no replica configured, or it has not yet replayed the caller's writes).
    Primary,
    /// The read replica.
    Replica,
}

async fn lsn(db: &DatabaseConnection, sql: &str) -> Result<Option<u64>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await?;
    Ok(match row {
        Some(r) => r
            .try_get::<Option<i64>>("", "lsn")?
            .and_then(|n| u64::try_from(n).ok()),
        None => None,
    })
}

/// Connects the read pool named by `url` to `state`: the primary must be PostgreSQL and `url` a
/// hot standby of it (`pg_is_in_recovery()`). Reads wait for the replica to have replayed
/// everything the primary held at this moment (writes made before the service started, by
/// another process, are not remembered per user).
pub async fn attach(state: &mut AppState, url: &str, max_connections: u32) -> Result<(), String> {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        return Err("KIEMKE_READ_DATABASE_URL needs a PostgreSQL primary (DATABASE_URL)".into());
    }
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err("KIEMKE_READ_DATABASE_URL must be a postgres:// URL".into());
    }
    let pool = crate::db::connect_with(url, max_connections)
        .await
        .map_err(|e| format!("cannot open the read replica: {e}"))?;
    let standby = pool
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_is_in_recovery() AS standby",
        ))
        .await
        .map_err(|e| format!("cannot query the read replica: {e}"))?
        .map(|r| r.try_get::<bool>("", "standby"))
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or(false);
    if !standby {
        return Err(
            "KIEMKE_READ_DATABASE_URL does not name a hot standby (pg_is_in_recovery() is false)"
                .into(),
        );
    }
    let floor = lsn(&state.db, PRIMARY_LSN)
        .await
        .map_err(|e| format!("cannot read the primary's WAL position: {e}"))?
        .unwrap_or(0);
    state.replica = Some(Arc::new(Replica::new(pool, floor)));
    Ok(())
}

/// Where `actor`'s read-only queries go now: the replica when one is configured and has
/// replayed the caller's last write (and everything written before the service started), the
/// primary otherwise (also when the replica cannot be asked).
pub async fn source_for(state: &AppState, actor: &Actor) -> Source {
    let Some(r) = &state.replica else {
        return Source::Primary;
    };
    let need = r.floor.max(written(r, actor.user_id));
    if r.replayed.load(Ordering::Acquire) >= need {
        return Source::Replica;
    }
    match lsn(&r.db, REPLAYED_LSN).await {
        Ok(Some(replayed)) => {
            r.replayed.fetch_max(replayed, Ordering::AcqRel);
            if replayed >= need {
                return Source::Replica;
            }
        }
        Ok(None) => tracing::warn!("the read replica is no longer a standby: reading the primary"),
        Err(e) => {
            tracing::warn!(error = %e, "the read replica cannot be asked: reading the primary")
        }
    }
    Source::Primary
}

/// The state `actor`'s read-only queries use: `state` itself, or a copy whose `db` is the read
/// replica (see [`source_for`]). Nothing may be written through it (a standby refuses writes).
pub async fn reader(state: &AppState, actor: &Actor) -> AppState {
    match (&state.replica, source_for(state, actor).await) {
        (Some(r), Source::Replica) => AppState {
            db: r.db.clone(),
            replica: None,
            ..state.clone()
        },
        _ => state.clone(),
    }
}

/// The replica's view of `state` for a handler: `Reader(state): Reader` in place of
/// `State(state): State<AppState>` in a read-only handler behind the API's guard.
pub struct Reader(pub AppState);

impl FromRequestParts<AppState> for Reader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let actor = parts
            .extensions
            .get::<Actor>()
            .ok_or_else(AppError::unauthorized)?;
        Ok(Reader(reader(state, actor).await))
    }
}

fn written(r: &Replica, user_id: i64) -> u64 {
    r.written
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&user_id)
        .copied()
        .unwrap_or(0)
}

/// Remembers that `user_id` has just written: their reads wait for the replica to replay the
/// primary's current WAL position. When the position cannot be read, the user reads the
/// primary until their next write.
pub async fn note_write(state: &AppState, user_id: i64) {
    let Some(r) = &state.replica else { return };
    let at = match lsn(&state.db, PRIMARY_LSN).await {
        Ok(Some(at)) => at,
        Ok(None) | Err(_) => u64::MAX,
    };
    let replayed = r.replayed.load(Ordering::Acquire);
    let mut written = r.written.lock().unwrap_or_else(|p| p.into_inner());
    // Positions the replica has passed need no memory.
    if written.len() > 1024 {
        written.retain(|_, lsn| *lsn > replayed);
    }
    let e = written.entry(user_id).or_insert(0);
    // The highest position wins (two writes of one user may finish in either order), except
    // that a known position replaces an unknown one: it was read after that write.
    *e = if *e == u64::MAX { at } else { (*e).max(at) };
}

/// Middleware after the guard (it reads the [`Actor`] the guard resolved): once a request that
/// may write (any method but GET, HEAD, OPTIONS, TRACE) is answered, remembers the primary's
/// WAL position for its caller ([`note_write`]). Nothing happens without a replica.
pub async fn note_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.replica.is_none() || req.method().is_safe() {
        return next.run(req).await;
    }
    let user = req.extensions().get::<Actor>().map(|a| a.user_id);
    let res = next.run(req).await;
    if let Some(user) = user {
        note_write(&state, user).await;
    }
    res
}
