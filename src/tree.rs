//! The administrative tree above the reporting units (issue 16): provinces → communes/wards →
//! units. After the 2025 reform there is no district level. Each node has its official code
//! (province: 2 digits, commune/ward: 5 digits) and name; a unit belongs to at most one ward
//! (`units.ward_id`; NULL: not yet placed, seen only by installation-wide accounts).
//!
//! Who sees what is [`crate::auth::Scope`]; turning a scope into a condition on units is
//! [`crate::units::scope_condition`].

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{auth::Scope, entities::admin_node, error::AppResult};

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
}

/// The node a scope is bound to, if any (`Scope::All` and accountants have none).
pub fn scope_node(scope: &Scope) -> Option<i64> {
    match scope {
        Scope::Province(id) | Scope::Ward(id) => Some(*id),
        Scope::All | Scope::Units(_) => None,
    }
}

/// One node by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<admin_node::Model>> {
    Ok(admin_node::Entity::find_by_id(id).one(db).await?)
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
