//! Units, campaigns, registrations, reports, assets, snapshots and the audit trail.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{}_{}", from.0, from.1))
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

fn index(
    table: &'static str,
    name: &str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("units")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 7))
                .col(string_len_null("registration_code", 15))
                .col(string_len("name", 255))
                .col(string_len("kind", 32))
                .col(big_integer_null("parent_id"))
                .col(text_null("address"))
                .col(string_len_null("accountant_name", 255))
                .col(string_len_null("accountant_phone", 20))
                .col(string_len_null("accountant_email", 254))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(("units", "parent_id"), ("units", "id")))
                .take(),
        )
        .await?;
        m.create_index(index(
            "units",
            "ux_units_registration_code",
            &["registration_code"],
            true,
        ))
        .await?;
        m.create_index(index("units", "ix_units_kind", &["kind"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("campaigns")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("name", 255))
                .col(string_len("authority_name", 255))
                .col(string_len("place_name", 100))
                .col(timestamp_with_time_zone("cutoff_at"))
                .col(date("registration_deadline"))
                .col(date("submission_deadline"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("registrations")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("unit_id"))
                .col(string_len("team_decision_no", 50))
                .col(date_null("team_decision_date"))
                .col(json_binary("team_members"))
                .col(timestamp_with_time_zone("registered_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(integer("late_changes").default(0))
                .foreign_key(&mut fk(
                    ("registrations", "campaign_id"),
                    ("campaigns", "id"),
                ))
                .foreign_key(&mut fk(("registrations", "unit_id"), ("units", "id")))
                .take(),
        )
        .await?;
        m.create_index(index(
            "registrations",
            "ux_registrations_campaign_unit",
            &["campaign_id", "unit_id"],
            true,
        ))
        .await?;

        // One report per unit, campaign and registered asset type: the unit's obligation.
        m.create_table(
            Table::create()
                .table("reports")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("unit_id"))
                .col(string_len("type_code", 2))
                .col(string_len("form_code", 3))
                .col(string_len("state", 16))
                .col(boolean("nil_return").default(false))
                .col(big_integer("record_count").default(0))
                .col(big_integer("original_cost_total").default(0))
                .col(big_integer("depreciation_total").default(0))
                .col(big_integer("remaining_value_total").default(0))
                .col(timestamp_with_time_zone_null("first_submitted_at"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(timestamp_with_time_zone_null("returned_at"))
                .col(text_null("return_reason"))
                .col(json_binary_null("return_comments"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(date_null("extension_deadline"))
                .col(text_null("extension_reason"))
                .col(integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(("reports", "campaign_id"), ("campaigns", "id")))
                .foreign_key(&mut fk(("reports", "unit_id"), ("units", "id")))
                .take(),
        )
        .await?;
        m.create_index(index(
            "reports",
            "ux_reports_campaign_unit_type",
            &["campaign_id", "unit_id", "type_code"],
            true,
        ))
        .await?;
        m.create_index(index(
            "reports",
            "ix_reports_campaign_state",
            &["campaign_id", "state"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("report_snapshots")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(integer("seq"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(big_integer_null("submitted_by"))
                .col(string_len("digest", 64))
                .col(json_binary("records"))
                .foreign_key(&mut fk(
                    ("report_snapshots", "report_id"),
                    ("reports", "id"),
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "report_snapshots",
            "ux_report_snapshots_seq",
            &["report_id", "seq"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("assets")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("unit_id"))
                .col(string_len("type_code", 2))
                .col(string_len("form_code", 3))
                .col(string_len_null("section", 8))
                .col(string_len("code", 50))
                .col(string_len("name", 500))
                .col(string_len_null("unit_of_measure", 30))
                .col(big_integer_null("qty_books"))
                .col(big_integer_null("qty_counted"))
                .col(big_integer_null("qty_difference"))
                .col(big_integer("original_cost"))
                .col(big_integer("original_cost_budget"))
                .col(big_integer("original_cost_other"))
                .col(big_integer("depreciation"))
                .col(big_integer("remaining_value"))
                .col(string_len("price_basis", 16))
                .col(string_len("usage_status", 2))
                .col(string_len_null("origin", 32))
                .col(integer_null("year_in_use"))
                .col(string_len_null("location", 500))
                .col(json_binary_null("legal_documents"))
                .col(string_len_null("note", 1000))
                .col(json_binary("fields"))
                .col(integer("version").default(1))
                .col(big_integer_null("created_by"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(("assets", "campaign_id"), ("campaigns", "id")))
                .foreign_key(&mut fk(("assets", "unit_id"), ("units", "id")))
                .take(),
        )
        .await?;
        m.create_index(index(
            "assets",
            "ux_assets_campaign_unit_code",
            &["campaign_id", "unit_id", "code"],
            true,
        ))
        .await?;
        m.create_index(index(
            "assets",
            "ix_assets_campaign_unit_type",
            &["campaign_id", "unit_id", "type_code", "section"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_id"))
                .col(string_len_null("actor_name", 100))
                .col(string_len("action", 40))
                .col(string_len("entity", 40))
                .col(big_integer_null("entity_id"))
                .col(big_integer_null("campaign_id"))
                .col(big_integer_null("unit_id"))
                .col(json_binary_null("before"))
                .col(json_binary_null("after"))
                .col(text_null("detail"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "audit_events",
            "ix_audit_entity",
            &["entity", "entity_id"],
            false,
        ))
        .await?;
        m.create_index(index("audit_events", "ix_audit_unit", &["unit_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_events",
            "assets",
            "report_snapshots",
            "reports",
            "registrations",
            "campaigns",
            "units",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
