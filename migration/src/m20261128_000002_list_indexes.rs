//! Indexes for the asset list of a large unit (issue 12, "Speed": 100,000 assets, p99 < 50 ms).
//!
//! The list narrows by campaign, unit and type, and orders by one of four keys. Each order has
//! an index holding the key and the id after the filter columns, so that a page — also a deep
//! one, `OFFSET 99,950` — is found by walking index entries alone (`assets::list` reads the ids
//! first, then the 50 rows). The totals row of a section reads the sums from one more index
//! instead of the wide rows. Plain column lists: the same indexes on SQLite and PostgreSQL.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name and columns (with their order) of each index.
fn indexes() -> Vec<(&'static str, Vec<(&'static str, IndexOrder)>)> {
    use IndexOrder::{Asc, Desc};
    let head = || vec![("campaign_id", Asc), ("unit_id", Asc), ("type_code", Asc)];
    let with = |tail: &[(&'static str, IndexOrder)]| {
        let mut cols = head();
        cols.extend(tail.iter().cloned());
        cols
    };
    vec![
        ("ix_assets_list_code", with(&[("code", Asc), ("id", Asc)])),
        ("ix_assets_list_name", with(&[("name", Asc), ("id", Asc)])),
        (
            "ix_assets_list_cost",
            with(&[("original_cost", Desc), ("id", Asc)]),
        ),
        (
            "ix_assets_list_updated",
            with(&[("updated_at", Asc), ("id", Asc)]),
        ),
        (
            "ix_assets_section_sums",
            with(&[
                ("section", Asc),
                ("original_cost", Asc),
                ("remaining_value", Asc),
            ]),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in indexes() {
            let mut i = Index::create();
            i.name(name).table("assets").if_not_exists();
            for (c, order) in cols {
                i.col((Alias::new(c), order));
            }
            m.create_index(i.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in indexes() {
            m.drop_index(Index::drop().name(name).table("assets").to_owned())
                .await?;
        }
        Ok(())
    }
}
