//! The enums stored in columns, as sea-orm generates them (`sea-orm-cli generate entity` writes
//! them here): the variants and their stored strings only; behaviour lives in the domain
//! modules (`StoredState`'s in `reports::state`).

use sea_orm::entity::prelude::*;

/// The state stored in the `reports.state` column, with the strings stored there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum StoredState {
    /// Opened by the registration, not sent yet (not started or draft, by its records).
    #[sea_orm(string_value = "open")]
    Open,
    /// Sent to the finance office; records locked.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Sent back for correction; records unlocked.
    #[sea_orm(string_value = "returned")]
    Returned,
    /// Accepted by the finance office; records locked for good.
    #[sea_orm(string_value = "accepted")]
    Accepted,
}
