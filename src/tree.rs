//! The administrative tree above the reporting units (issue 16): provinces → communes/wards →
//! units. After the 2025 reform there is no district level. Each node has its official code
//! (province: 2 digits, commune/ward: 5 digits) and name; a unit belongs to at most one ward
//! (`units.ward_id`; NULL: not yet placed, seen only by installation-wide accounts).
//!
//! This module is the home of the tree: its nodes (created and renamed by the admin, audited),
//! who sees which node ([`visible_condition`]), and the scope conditions every list of unit data
//! filters by ([`unit_condition`] on `units`, [`units_of`] on any table with a unit column).
//! Who sees what is [`crate::auth::Scope`].

use std::sync::LazyLock;

use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::{LikeExpr, Query},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    audit::Event,
    auth::{Actor, Scope},
    entities::{admin_node, unit},
    error::{AppError, AppResult, FieldError, OnUnique},
    pagination::{Page, PageQuery},
    search,
    state::AppState,
};

/// A province's official code: 2 digits.
pub static PROVINCE_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{2}$").expect("valid regex"));
/// A commune's or ward's official code: 5 digits.
pub static WARD_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{5}$").expect("valid regex"));

/// A level of the tree above the units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Tỉnh / thành phố trực thuộc trung ương.
    Province,
    /// Xã / phường / đặc khu.
    Ward,
}

impl Level {
    /// Stored and documented name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Ward => "ward",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Level> {
        [Level::Province, Level::Ward]
            .into_iter()
            .find(|l| l.as_str() == s)
    }

    /// The shape of this level's official code.
    fn code_rule(self) -> (&'static Regex, &'static str, &'static str) {
        match self {
            Level::Province => (
                &PROVINCE_CODE,
                "Mã tỉnh gồm đúng 2 chữ số",
                "A province code is exactly 2 digits",
            ),
            Level::Ward => (
                &WARD_CODE,
                "Mã xã, phường gồm đúng 5 chữ số",
                "A commune or ward code is exactly 5 digits",
            ),
        }
    }
}

/// The node a scope is bound to, if any (`Scope::All` and accountants have none).
pub fn scope_node(scope: &Scope) -> Option<i64> {
    match scope {
        Scope::Province(id) | Scope::Ward(id) => Some(*id),
        Scope::All | Scope::Units(_) => None,
    }
}

/// The units a scope covers, as a condition on `units` (every list, board, export and audit
/// query of units filters by it). Uses the indexed `ward_id` / `province_id` columns, so a
/// ward's or a province's query never reads other wards' rows.
pub fn unit_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Province(id) => Condition::all().add(unit::Column::ProvinceId.eq(*id)),
        Scope::Ward(id) => Condition::all().add(unit::Column::WardId.eq(*id)),
        Scope::Units(ids) => Condition::all().add(unit::Column::Id.is_in(ids.clone())),
    }
}

/// The rows of any table whose unit column `col` names a unit the scope covers: nothing for
/// `Scope::All`, the accountant's ids, or a subquery on the indexed tree columns of `units`.
pub fn units_of(col: impl ColumnTrait, scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Units(ids) => Condition::all().add(col.is_in(ids.clone())),
        Scope::Province(_) | Scope::Ward(_) => Condition::all().add(
            col.in_subquery(
                Query::select()
                    .column(unit::Column::Id)
                    .from(unit::Entity)
                    .cond_where(unit_condition(scope))
                    .take(),
            ),
        ),
    }
}

/// Whether `scope` covers this unit.
pub fn covers(scope: &Scope, u: &unit::Model) -> bool {
    match scope {
        Scope::All => true,
        Scope::Province(id) => u.province_id == Some(*id),
        Scope::Ward(id) => u.ward_id == Some(*id),
        Scope::Units(ids) => ids.contains(&u.id),
    }
}

/// Whether `scope` covers the unit `unit_id` (`false` when there is no such unit).
pub async fn covers_unit(
    db: &impl ConnectionTrait,
    scope: &Scope,
    unit_id: i64,
) -> AppResult<bool> {
    Ok(match scope {
        Scope::All => true,
        Scope::Units(ids) => ids.contains(&unit_id),
        Scope::Province(_) | Scope::Ward(_) => unit::Entity::find_by_id(unit_id)
            .one(db)
            .await?
            .is_some_and(|u| covers(scope, &u)),
    })
}

/// The nodes a scope may read, as a condition on `admin_nodes`: its subtree and the path up to
/// it (a ward's finance office sees its ward and its province; a province's, the province and
/// its wards; an accountant, the ward and province of each of their units).
pub fn visible_condition(scope: &Scope) -> Condition {
    let id = admin_node::Column::Id;
    match scope {
        Scope::All => Condition::all(),
        Scope::Province(p) => Condition::any()
            .add(id.eq(*p))
            .add(admin_node::Column::ParentId.eq(*p)),
        Scope::Ward(w) => Condition::any().add(id.eq(*w)).add(
            id.in_subquery(
                Query::select()
                    .column(admin_node::Column::ParentId)
                    .from(admin_node::Entity)
                    .and_where(admin_node::Column::Id.eq(*w))
                    .take(),
            ),
        ),
        Scope::Units(ids) => {
            let of_units = |c: unit::Column| {
                id.in_subquery(
                    Query::select()
                        .column(c)
                        .from(unit::Entity)
                        .and_where(unit::Column::Id.is_in(ids.clone()))
                        .and_where(c.is_not_null())
                        .take(),
                )
            };
            Condition::any()
                .add(of_units(unit::Column::WardId))
                .add(of_units(unit::Column::ProvinceId))
        }
    }
}

/// Whether `scope` may read the node `node_id` (`false` when there is no such node).
pub async fn sees_node(db: &impl ConnectionTrait, scope: &Scope, node_id: i64) -> AppResult<bool> {
    Ok(admin_node::Entity::find_by_id(node_id)
        .filter(visible_condition(scope))
        .count(db)
        .await?
        > 0)
}

/// One node by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<admin_node::Model>> {
    Ok(admin_node::Entity::find_by_id(id).one(db).await?)
}

/// One node by its official code.
pub async fn by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<admin_node::Model>> {
    Ok(admin_node::Entity::find()
        .filter(admin_node::Column::Code.eq(code.trim()))
        .one(db)
        .await?)
}

/// The children of a node in code order (`None`: the provinces).
pub async fn children(
    db: &impl ConnectionTrait,
    parent: Option<i64>,
) -> AppResult<Vec<admin_node::Model>> {
    let q = admin_node::Entity::find();
    let q = match parent {
        Some(p) => q.filter(admin_node::Column::ParentId.eq(p)),
        None => q.filter(admin_node::Column::ParentId.is_null()),
    };
    Ok(q.order_by_asc(admin_node::Column::Code).all(db).await?)
}

/// The ward of `ward_code` with its province, for placing a unit; a field error on `field`
/// when the code names no ward.
pub async fn ward_for(
    db: &impl ConnectionTrait,
    field: &str,
    ward_code: &str,
) -> AppResult<admin_node::Model> {
    match by_code(db, ward_code).await? {
        Some(n) if n.level == Level::Ward.as_str() && n.parent_id.is_some() => Ok(n),
        Some(_) => Err(AppError::field(
            field,
            "not_a_ward",
            &format!("«{ward_code}» không phải mã xã, phường: đơn vị chỉ gắn với xã, phường"),
            &format!("\"{ward_code}\" is not a commune or ward code: a unit belongs to a ward"),
        )),
        None => Err(AppError::field(
            field,
            "not_found",
            &format!("Không có xã, phường mã «{ward_code}»"),
            &format!("There is no commune or ward with code \"{ward_code}\""),
        )),
    }
}

/// The node a finance officer or viewer is bound to, by code; a field error on `field` when
/// the code names no node.
pub async fn node_for(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
) -> AppResult<admin_node::Model> {
    by_code(db, code).await?.ok_or_else(|| {
        AppError::field(
            field,
            "not_found",
            &format!("Không có địa bàn (tỉnh, xã, phường) mã «{code}»"),
            &format!("There is no province, commune or ward with code \"{code}\""),
        )
    })
}

// ---------------------------------------------------------------- managing the nodes

/// A new province or commune/ward.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNode {
    /// Official code: 2 digits for a province, 5 for a commune or ward.
    #[schema(
        pattern = "^[0-9]{2}([0-9]{3})?$",
        min_length = 2,
        max_length = 5,
        example = "20"
    )]
    pub code: String,
    /// Official name, e.g. «Tỉnh Lạng Sơn», «Phường Tam Thanh».
    #[validate(length(max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// `province` or `ward` (a commune or ward).
    pub level: Level,
    /// The province of a commune or ward (its 2-digit code); absent for a province.
    #[schema(pattern = "^[0-9]{2}$", nullable = false)]
    pub parent_code: Option<String>,
}

/// Changes to a node: its code or its name (a ward stays in its province).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodePatch {
    /// New official code (same shape as the level's).
    #[schema(pattern = "^[0-9]{2}([0-9]{3})?$", min_length = 2, max_length = 5)]
    pub code: Option<String>,
    /// New name.
    #[validate(length(max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
}

/// A node as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeView {
    /// Id.
    pub id: i64,
    /// Official code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// The province of a commune or ward.
    pub parent_id: Option<i64>,
    /// Created (UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last changed (UTC).
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<admin_node::Model> for NodeView {
    fn from(m: admin_node::Model) -> Self {
        NodeView {
            id: m.id,
            level: Level::parse(&m.level).unwrap_or(Level::Ward),
            code: m.code,
            name: m.name,
            parent_id: m.parent_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Filters of the node list.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NodeFilter {
    /// Only the children of this node (a province's wards).
    #[param(minimum = 1)]
    pub parent: Option<i64>,
    /// Only nodes of this level.
    pub level: Option<Level>,
    /// Text searched in code and name, ignoring case and Vietnamese diacritics.
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// The 404 of a node that does not exist, or that the caller may not see: one body for both.
pub fn not_found() -> AppError {
    AppError::not_found("địa bàn", "Node")
}

fn duplicate_code(code: &str) -> impl FnOnce() -> AppError + '_ {
    move || {
        AppError::new(
            crate::error::Problem::Conflict,
            format!("Mã địa bàn «{code}» đã được dùng cho một tỉnh, xã hoặc phường khác."),
            format!("The code \"{code}\" is already used by another province, commune or ward."),
        )
    }
}

/// The problems of a code and a name for `level`, every failing field listed.
fn check_fields(level: Level, code: Option<&str>, name: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(code) = code {
        let (rule, vi, en) = level.code_rule();
        if !rule.is_match(code) {
            errors.push(FieldError::new("code", "regex", vi, en));
        }
    }
    if name.is_some_and(|n| n.trim().is_empty()) {
        errors.push(FieldError::new(
            "name",
            "required",
            "Phải có tên địa bàn",
            "The name is required",
        ));
    }
    errors
}

/// Creates a province, or a commune/ward under its province.
pub async fn create(state: &AppState, actor: &Actor, input: NewNode) -> AppResult<NodeView> {
    let code = input.code.trim().to_string();
    let mut errors = check_fields(input.level, Some(&code), Some(&input.name));
    let parent_code = input
        .parent_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let parent = match (input.level, parent_code) {
        (Level::Province, None) => None,
        (Level::Province, Some(_)) => {
            errors.push(FieldError::new(
                "parent_code",
                "not_applicable",
                "Tỉnh không có địa bàn cấp trên",
                "A province has no parent",
            ));
            None
        }
        (Level::Ward, None) => {
            errors.push(FieldError::new(
                "parent_code",
                "required",
                "Xã, phường phải thuộc một tỉnh: nhập mã tỉnh",
                "A commune or ward belongs to a province: give its code",
            ));
            None
        }
        (Level::Ward, Some(p)) => match by_code(&tx, p).await? {
            Some(n) if n.level == Level::Province.as_str() => Some(n.id),
            _ => {
                errors.push(FieldError::new(
                    "parent_code",
                    "not_a_province",
                    &format!("Không có tỉnh mã «{p}»"),
                    &format!("There is no province with code \"{p}\""),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let name = input.name.trim().to_string();
    let m = admin_node::ActiveModel {
        search: Set(search::key(&code, &name)),
        code: Set(code.clone()),
        name: Set(name),
        level: Set(input.level.as_str().to_string()),
        parent_id: Set(parent),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .on_unique(duplicate_code(&code))?;
    let view = NodeView::from(m);
    Event::new("create", "admin_node", view.id)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes a node's code or name.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    patch: NodePatch,
) -> AppResult<NodeView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = find(&tx, id).await?.ok_or_else(not_found)?;
    let before = NodeView::from(current.clone());
    let code = patch.code.as_deref().map(str::trim).map(str::to_string);
    let errors = check_fields(before.level, code.as_deref(), patch.name.as_deref());
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let mut m: admin_node::ActiveModel = current.clone().into();
    let code = code.unwrap_or(current.code);
    let name = patch
        .name
        .map(|n| n.trim().to_string())
        .unwrap_or(current.name);
    m.search = Set(search::key(&code, &name));
    m.code = Set(code.clone());
    m.name = Set(name);
    m.updated_at = Set(now);
    let view = NodeView::from(m.update(&tx).await.on_unique(duplicate_code(&code))?);
    Event::new("update", "admin_node", id)
        .before(&before)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// One node the caller may read, or 404.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<NodeView> {
    admin_node::Entity::find_by_id(id)
        .filter(visible_condition(scope))
        .one(db)
        .await?
        .map(NodeView::from)
        .ok_or_else(not_found)
}

/// The nodes the caller may read, provinces first then by code.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &NodeFilter,
    page: &PageQuery,
) -> AppResult<Page<NodeView>> {
    let mut cond = visible_condition(scope);
    if let Some(p) = filter.parent {
        cond = cond.add(admin_node::Column::ParentId.eq(p));
    }
    if let Some(l) = filter.level {
        cond = cond.add(admin_node::Column::Level.eq(l.as_str()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = LikeExpr::new(search::contains_pattern(q)).escape('\\');
        cond = cond.add(admin_node::Column::Search.like(pattern));
    }
    let query = admin_node::Entity::find().filter(cond);
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_asc(admin_node::Column::Level)
        .order_by_asc(admin_node::Column::Code)
        .offset(page.offset())
        .limit(page.per_page())
        .all(db)
        .await?
        .into_iter()
        .map(NodeView::from)
        .collect();
    Ok(Page::new(items, page, total))
}

/// The nodes with these ids (any order).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<admin_node::Model>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(admin_node::Entity::find()
        .filter(admin_node::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}
