//! The installation's board by province at national scale (issue 16 point 6): which units sent
//! every report is counted per province from `reports` alone (`province_id`, the distribution
//! key, is on every report). With `(campaign_id, province_id, unit_id, state)` PostgreSQL reads
//! that count from the index, in province and unit order, one group after another, instead of
//! hashing 100,000 units' reports (measured in docs/PERFORMANCE.md, "Boards by node"). A
//! province's board reads its own registrations from `(campaign_id, province_id)` instead of
//! scanning the campaign's.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &[&str]); 2] = [
    (
        "reports",
        "ix_reports_campaign_province_unit_state",
        &["campaign_id", "province_id", "unit_id", "state"],
    ),
    (
        "registrations",
        "ix_registrations_campaign_province",
        &["campaign_id", "province_id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, cols) in INDEXES {
            let mut i = Index::create();
            i.name(name).table(table).if_not_exists();
            for c in cols {
                i.col(*c);
            }
            m.create_index(i.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in INDEXES {
            m.drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
