//! User accounts: who they are, their role, the units an accountant works for.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::{
    audit::{self, Event},
    auth::{Actor, Role, password},
    entities::{unit, user, user_unit},
    error::{AppError, AppResult, OnUnique},
    pagination::{Page, PageQuery, patch_field},
    sessions::{self, LoginError},
    state::AppState,
    tree,
};

static USERNAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9._-]{2,63}$").expect("valid regex"));

/// A new user.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 3–64 lower-case letters, digits, `.`, `_`, `-`.
    #[validate(regex(path = *USERNAME))]
    #[schema(
        pattern = "^[a-z0-9][a-z0-9._-]{2,63}$",
        min_length = 3,
        max_length = 64
    )]
    pub username: String,
    /// Full name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub full_name: String,
    /// E-mail.
    #[validate(email, length(max = 254))]
    #[schema(format = "email", max_length = 254, nullable = false)]
    pub email: Option<String>,
    /// Phone.
    #[validate(length(max = 20))]
    #[schema(max_length = 20, nullable = false)]
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// Units an accountant works for (required for `unit_accountant`, empty otherwise).
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub unit_ids: Vec<i64>,
    /// The node (province or commune/ward code) a finance officer or viewer is bound to: they
    /// see that subtree only. Absent: the whole installation. Not for accountants or admins.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{2}([0-9]{3})?$", nullable = false, example = "05965")]
    pub node_code: Option<String>,
    /// Initial password (at least 10 characters).
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New full name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub full_name: Option<String>,
    /// New e-mail, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, format = "email", max_length = 254)]
    pub email: Option<Option<String>>,
    /// New phone, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, max_length = 20)]
    pub phone: Option<Option<String>>,
    /// New role.
    pub role: Option<Role>,
    /// New set of units.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub unit_ids: Option<Vec<i64>>,
    /// New node (province or commune/ward code) of a finance officer or viewer, or `null` for
    /// the whole installation.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{2}([0-9]{3})?$")]
    pub node_code: Option<Option<String>>,
    /// `false` disables the account and ends its sessions.
    pub active: Option<bool>,
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Full name.
    pub full_name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// Units the user works for.
    pub unit_ids: Vec<i64>,
    /// The node a finance officer or viewer is bound to (`null`: the whole installation).
    pub node_id: Option<i64>,
    /// That node's code.
    pub node_code: Option<String>,
    /// Whether the account may log in.
    pub active: bool,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// `POST /me/password` body.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// Current password.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub current_password: String,
    /// New password (at least 10 characters).
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// `POST /users/{user_id}/password` body (admin reset).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// New password (at least 10 characters).
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

async fn units_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(user_unit::Entity::find()
        .filter(user_unit::Column::UserId.eq(user_id))
        .order_by_asc(user_unit::Column::UnitId)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.unit_id)
        .collect())
}

fn to_view(m: user::Model, unit_ids: Vec<i64>) -> UserView {
    UserView {
        id: m.id,
        username: m.username,
        full_name: m.full_name,
        email: m.email,
        phone: m.phone,
        role: Role::parse(&m.role).unwrap_or(Role::Viewer),
        unit_ids,
        node_id: m.node_id,
        node_code: None,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn set_units(
    db: &impl ConnectionTrait,
    user_id: i64,
    role: Role,
    unit_ids: &[i64],
) -> AppResult<()> {
    if role == Role::UnitAccountant && unit_ids.is_empty() {
        return Err(AppError::field(
            "unit_ids",
            "required",
            "Kế toán đơn vị phải gắn với ít nhất một đơn vị",
            "A unit accountant must be bound to at least one unit",
        ));
    }
    if role != Role::UnitAccountant && !unit_ids.is_empty() {
        return Err(AppError::field(
            "unit_ids",
            "not_applicable",
            "Chỉ kế toán đơn vị mới gắn với đơn vị",
            "Only unit accountants are bound to units",
        ));
    }
    let found = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids.to_vec()))
        .count(db)
        .await?;
    let distinct: std::collections::BTreeSet<_> = unit_ids.iter().collect();
    if found as usize != distinct.len() {
        return Err(AppError::field(
            "unit_ids",
            "not_found",
            "Có đơn vị không tồn tại",
            "Some units do not exist",
        ));
    }
    user_unit::Entity::delete_many()
        .filter(user_unit::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    for id in distinct {
        user_unit::ActiveModel {
            user_id: Set(user_id),
            unit_id: Set(*id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Loads a user or fails with 404.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<UserView> {
    let m = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?;
    let units = units_of(db, id).await?;
    let node = match m.node_id {
        Some(n) => tree::find(db, n).await?.map(|n| n.code),
        None => None,
    };
    Ok(UserView {
        node_code: node,
        ..to_view(m, units)
    })
}

/// The node a user of `role` is bound to: `code` resolved, or a field error when the code
/// names no node or the role is not bound to nodes (accountants are bound to units, admins
/// see the whole installation).
async fn bind(db: &impl ConnectionTrait, role: Role, code: Option<&str>) -> AppResult<Option<i64>> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if !matches!(role, Role::FinanceOfficer | Role::Viewer) {
        return Err(AppError::field(
            "node_code",
            "not_applicable",
            "Chỉ cán bộ tài chính và người xem (chủ tịch) mới gắn với một địa bàn; kế toán đơn vị gắn với đơn vị, quản trị viên thấy toàn bộ",
            "Only finance officers and viewers are bound to a node; unit accountants are bound to units and admins see the whole installation",
        ));
    }
    Ok(Some(tree::node_for(db, "node_code", code).await?.id))
}

/// Creates a user (also used at bootstrap and by the demo loader).
pub async fn create(state: &AppState, actor: &Actor, input: NewUser) -> AppResult<UserView> {
    if let Some((vi, en)) = password::weakness(&input.password, &input.username) {
        return Err(AppError::field("password", "weak", vi, en));
    }
    let hash = password::hash_blocking(&input.password, state.settings.argon2_memory_kib).await?;
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let node_id = bind(&tx, input.role, input.node_code.as_deref()).await?;
    let m = user::ActiveModel {
        username: Set(input.username.to_lowercase()),
        full_name: Set(input.full_name.trim().to_string()),
        email: Set(input.email),
        phone: Set(input.phone),
        role: Set(input.role.as_str().to_string()),
        password_hash: Set(hash),
        active: Set(true),
        node_id: Set(node_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .on_unique(|| AppError::conflict("Tên đăng nhập đã được dùng.", "The user name is taken."))?;
    set_units(&tx, m.id, input.role, &input.unit_ids).await?;
    let view = to_view(m, input.unit_ids.clone());
    Event::new("create", "user", view.id)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    get(&state.db, view.id).await
}

/// Changes a user.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    patch: UserPatch,
) -> AppResult<UserView> {
    if let Some(Some(e)) = &patch.email
        && (!validator::ValidateEmail::validate_email(e) || e.len() > 254)
    {
        return Err(AppError::field(
            "email",
            "email",
            "Địa chỉ thư điện tử không hợp lệ",
            "Invalid e-mail address",
        ));
    }
    // The column holds 20 characters; PostgreSQL refused a longer phone with a 500 (schemathesis).
    if let Some(Some(p)) = &patch.phone
        && p.chars().count() > 20
    {
        return Err(AppError::field(
            "phone",
            "length",
            "«phone» dài tối đa 20 ký tự",
            "\"phone\" must be at most 20 characters long",
        ));
    }
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let before = get(&tx, id).await?;
    let current = user::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?;
    let role = patch.role.unwrap_or(before.role);
    if id == actor.user_id && (role != Role::Admin || patch.active == Some(false)) {
        return Err(AppError::conflict(
            "Không thể tự bỏ quyền quản trị hoặc tự khóa tài khoản của mình.",
            "You cannot remove your own admin role or disable your own account.",
        ));
    }
    let mut a: user::ActiveModel = current.into();
    if let Some(v) = patch.full_name {
        a.full_name = Set(v.trim().to_string());
    }
    if let Some(v) = patch.email {
        a.email = Set(v);
    }
    if let Some(v) = patch.phone {
        a.phone = Set(v);
    }
    a.role = Set(role.as_str().to_string());
    // The node: as given; kept while the role stays bindable; dropped with a role that is not.
    a.node_id = Set(match &patch.node_code {
        Some(code) => bind(&tx, role, code.as_deref()).await?,
        None if matches!(role, Role::FinanceOfficer | Role::Viewer) => before.node_id,
        None => None,
    });
    if let Some(v) = patch.active {
        a.active = Set(v);
        if !v {
            sessions::revoke_all(&tx, id, now).await?;
        }
    }
    a.updated_at = Set(now);
    a.update(&tx).await?;
    if patch.unit_ids.is_some() || patch.role.is_some() {
        let units = patch.unit_ids.unwrap_or(if role == Role::UnitAccountant {
            before.unit_ids.clone()
        } else {
            vec![]
        });
        set_units(&tx, id, role, &units).await?;
    }
    let after = get(&tx, id).await?;
    Event::new("update", "user", id)
        .before(&before)
        .after(&after)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Lists users.
pub async fn list(state: &AppState, page: &PageQuery) -> AppResult<Page<UserView>> {
    let total = user::Entity::find().count(&state.db).await?;
    let models = user::Entity::find()
        .order_by_asc(user::Column::Username)
        .offset(page.offset())
        .limit(page.per_page())
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let node_ids: Vec<i64> = models.iter().filter_map(|m| m.node_id).collect();
    let nodes: std::collections::HashMap<i64, String> = tree::by_ids(&state.db, &node_ids)
        .await?
        .into_iter()
        .map(|n| (n.id, n.code))
        .collect();
    let links = user_unit::Entity::find()
        .filter(user_unit::Column::UserId.is_in(ids))
        .order_by_asc(user_unit::Column::UnitId)
        .all(&state.db)
        .await?;
    let items = models
        .into_iter()
        .map(|m| {
            let units = links
                .iter()
                .filter(|l| l.user_id == m.id)
                .map(|l| l.unit_id)
                .collect();
            let node_code = m.node_id.and_then(|n| nodes.get(&n).cloned());
            UserView {
                node_code,
                ..to_view(m, units)
            }
        })
        .collect();
    Ok(Page::new(items, page, total))
}

async fn set_password(
    state: &AppState,
    actor: &Actor,
    id: i64,
    new_password: &str,
    action: &str,
) -> AppResult<()> {
    let username = user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?
        .username;
    if let Some((vi, en)) = password::weakness(new_password, &username) {
        return Err(AppError::field("new_password", "weak", vi, en));
    }
    let hash = password::hash_blocking(new_password, state.settings.argon2_memory_kib).await?;
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = user::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?;
    let mut a: user::ActiveModel = current.into();
    a.password_hash = Set(hash);
    a.updated_at = Set(now);
    a.update(&tx).await?;
    sessions::revoke_all(&tx, id, now).await?;
    Event::new(action, "user", id)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the caller's own password after checking the current one; every session ends.
///
/// The check of the current password goes through the login throttle (same counts as
/// `POST /auth/login` for this name and `address`), so a stolen token is no password oracle.
pub async fn change_own_password(
    state: &AppState,
    actor: &Actor,
    req: &PasswordChange,
    address: &str,
) -> Result<(), LoginError> {
    let current = user::Entity::find_by_id(actor.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    let attempt = sessions::begin_attempt(state, &current.username, address).await?;
    if !password::verify_blocking(&req.current_password, &current.password_hash).await? {
        sessions::record_failure(state, attempt, &current.username, address).await?;
        return Err(AppError::field(
            "current_password",
            "wrong_password",
            "Mật khẩu hiện tại không đúng",
            "The current password is wrong",
        )
        .into());
    }
    attempt.succeeded();
    set_password(
        state,
        actor,
        actor.user_id,
        &req.new_password,
        "password_change",
    )
    .await?;
    Ok(())
}

/// Sets another user's password (admin); every session of that user ends.
pub async fn reset_password(
    state: &AppState,
    actor: &Actor,
    id: i64,
    req: &PasswordReset,
) -> AppResult<()> {
    set_password(state, actor, id, &req.new_password, "password_reset").await
}

async fn by_name(db: &impl ConnectionTrait, username: &str) -> AppResult<user::Model> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username.trim().to_lowercase()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))
}

/// Lifts the login throttle's hold on `username` (`kiemke unlock`): in this process at once,
/// and in a running service through the audit event it records, which the service reads
/// the next time the name is held back. Failures counted against an address stay.
pub async fn unlock(state: &AppState, actor: &Actor, username: &str) -> AppResult<()> {
    let u = by_name(&state.db, username).await?;
    audit::record_unlock(&state.db, actor, state.clock.now(), u.id, &u.username).await?;
    state.limiter.unlock(&u.username);
    Ok(())
}

/// Sets the password of `username` (`kiemke reset-password`, for the operator): the given one,
/// or a generated one that is returned. Ends every session of the account and unlocks the name like [`unlock`].
pub async fn operator_reset(
    state: &AppState,
    username: &str,
    new_password: Option<String>,
) -> AppResult<Option<String>> {
    let u = by_name(&state.db, username).await?;
    let generated = new_password.is_none();
    let pw = new_password.unwrap_or_else(password::generate);
    let actor = Actor::system();
    set_password(state, &actor, u.id, &pw, "password_reset").await?;
    unlock(state, &actor, &u.username).await?;
    Ok(generated.then_some(pw))
}

/// Creates the first admin when there is no user at all; returns the password when it was generated.
pub async fn bootstrap_admin(
    state: &AppState,
    password: Option<String>,
) -> AppResult<Option<String>> {
    if user::Entity::find().count(&state.db).await? > 0 {
        return Ok(None);
    }
    if let Some((vi, en)) = password
        .as_deref()
        .and_then(|p| password::weakness(p, "admin"))
    {
        return Err(AppError::field("KIEMKE_ADMIN_PASSWORD", "weak", vi, en));
    }
    let generated = password.is_none();
    let pw = password.unwrap_or_else(password::generate);
    create(
        state,
        &Actor::system(),
        NewUser {
            username: "admin".into(),
            full_name: "Quản trị hệ thống".into(),
            email: None,
            phone: None,
            role: Role::Admin,
            unit_ids: vec![],
            node_code: None,
            password: pw.clone(),
        },
    )
    .await?;
    Ok(generated.then_some(pw))
}
