//! Indexes that let the progress board count a campaign of 100,000 units from indexes alone
//! (issue 7): every count reads an index, never the wide rows of units, registrations or reports.
//! None of them covers a report's counters, so the counter update of every asset write does
//! not have to maintain them.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(*c);
    }
    i.take()
}

/// A registration without an inventory team: `team_members` is not a JSON array, or is empty.
/// `progress::registration_counts` repeats this expression word for word, so that the partial
/// index serves it.
fn no_team_predicate(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "jsonb_typeof(team_members) <> 'array' OR team_members = '[]'::jsonb"
        }
        _ => "json_type(team_members) <> 'array' OR json_array_length(team_members) = 0",
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Units in scope: the active ones (counted from this index), plus the few inactive
        // units that registered (found through it).
        m.create_index(index("units", "ix_units_active", &["active"]))
            .await?;
        // Registered on time or late: a range count over the campaign's registration instants.
        m.create_index(index(
            "registrations",
            "ix_registrations_campaign_registered",
            &["campaign_id", "registered_at"],
        ))
        .await?;
        // Registrations without a team: a partial index holding only those (usually none).
        let mut no_team = index(
            "registrations",
            "ix_registrations_no_team",
            &["campaign_id"],
        );
        no_team.and_where(Expr::cust(no_team_predicate(m.get_database_backend())));
        m.create_index(no_team).await?;
        // The distinct extension deadlines of a campaign.
        m.create_index(index(
            "reports",
            "ix_reports_campaign_extension",
            &["campaign_id", "extension_deadline"],
        ))
        .await?;
        // Units whose every report is sent: reports by unit with their state, in unit order.
        m.create_index(index(
            "reports",
            "ix_reports_campaign_unit_state",
            &["campaign_id", "unit_id", "state"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("reports", "ix_reports_campaign_unit_state"),
            ("reports", "ix_reports_campaign_extension"),
            ("registrations", "ix_registrations_no_team"),
            ("registrations", "ix_registrations_campaign_registered"),
            ("units", "ix_units_active"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
