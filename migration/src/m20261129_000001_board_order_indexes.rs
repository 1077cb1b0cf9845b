//! Indexes for the orders of the board's unit rows at 100,000 units (issue 13 "Speed", issue
//! 17 "Also"): the board orders units by code (the unique index on `code` serves it) or by name
//! then code. With `ix_units_name_code`, a page in name order — the first, the last read from
//! the far end, or one after a keyset cursor (`after=`) — walks 50 index entries instead of
//! sorting every unit in scope. Plain column lists: the same index on SQLite and PostgreSQL.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_units_name_code")
                .table("units")
                .col("name")
                .col("code")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_units_name_code")
                .table("units")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
