//! Schema migrations for kiemke. One module per migration; migrations never
//! import the application's entities, so old migrations keep compiling as the
//! entities change.
pub use sea_orm_migration::prelude::*;

mod m20260101_000001_core;
mod m20260101_000002_accounts;
mod m20261126_000001_progress_indexes;
mod m20261128_000001_search_keys;
mod m20261128_000002_list_indexes;
mod m20261129_000001_board_order_indexes;
mod m20261130_000001_admin_tree;
mod m20261201_000001_rollup_indexes;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_core::Migration),
            Box::new(m20260101_000002_accounts::Migration),
            Box::new(m20261126_000001_progress_indexes::Migration),
            Box::new(m20261128_000001_search_keys::Migration),
            Box::new(m20261128_000002_list_indexes::Migration),
            Box::new(m20261129_000001_board_order_indexes::Migration),
            Box::new(m20261130_000001_admin_tree::Migration),
            Box::new(m20261201_000001_rollup_indexes::Migration),
        ]
    }
}
