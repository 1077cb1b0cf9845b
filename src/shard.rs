//! The distribution key (issue 16): `province_id`, the province of a unit's ward, kept on the
//! unit and on every large table under it (`registrations`, `reports`, `assets`,
//! `report_snapshots`), set by every insert and kept in step when a unit moves. A Citus-style
//! deployment distributes those tables by it (docs/PERFORMANCE.md, "Beyond one machine"), so
//! every hot query of one unit names it too: with the key as an equality such a query is
//! routed to the one node holding the province, instead of being fanned out to every node.
//!
//! A unit not yet placed in the tree has no province (NULL), and neither have its rows.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QuerySelect, sea_query::SimpleExpr};

use crate::{entities::unit, error::AppResult};

/// The distribution key of a unit's rows: its province (`None`: unplaced, or no such unit).
pub async fn of_unit(db: &impl ConnectionTrait, unit_id: i64) -> AppResult<Option<i64>> {
    let key: Option<Option<i64>> = unit::Entity::find_by_id(unit_id)
        .select_only()
        .column(unit::Column::ProvinceId)
        .into_tuple()
        .one(db)
        .await?;
    Ok(key.flatten())
}

/// `column` holds `key`: an equality, or `IS NULL` for the rows of an unplaced unit.
pub fn matches(column: impl ColumnTrait, key: Option<i64>) -> SimpleExpr {
    match key {
        Some(k) => column.eq(k),
        None => column.is_null(),
    }
}
