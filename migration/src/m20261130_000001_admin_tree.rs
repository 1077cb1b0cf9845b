//! The administrative tree above the reporting units (issue 16): provinces → communes/wards
//! (no district level since the 2025 reform) → units.
//!
//! - `admin_nodes`: one row per province or ward, with its official code (province: 2 digits,
//!   commune/ward: 5 digits) and name; a ward's `parent_id` is its province.
//! - `units.ward_id`: the ward a unit reports to. NULL means "not yet placed in the tree": such a
//!   unit is seen only by accounts bound to the whole installation.
//! - `users.node_id`: the node a finance officer or a viewer is bound to (they see that node's
//!   subtree); NULL means the whole installation.
//! - `province_id` on `units` and on every large table under a unit (`registrations`, `reports`,
//!   `assets`, `report_snapshots`): the distribution key (a province is the shard of a
//!   Citus-style deployment, see docs/PERFORMANCE.md). It is the unit's ward's province,
//!   denormalised; NULL while the unit is unplaced.
//!
//! SQLite cannot add a foreign key with `ALTER TABLE` through sea-query, so the columns that
//! point at `admin_nodes` are added with the same plain SQL on both backends.
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns pointing at `admin_nodes`: (table, column).
const NODE_REFS: [(&str, &str); 3] = [
    ("units", "ward_id"),
    ("units", "province_id"),
    ("users", "node_id"),
];

/// The distribution key on the tables under a unit (no foreign key: denormalised).
const KEYED: [&str; 4] = ["registrations", "reports", "assets", "report_snapshots"];

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(*c);
    }
    i.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("admin_nodes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 8))
                .col(string_len("name", 255))
                .col(string_len("level", 16))
                .col(big_integer_null("parent_id"))
                .col(text("search").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_admin_nodes_parent_id")
                        .from("admin_nodes", "parent_id")
                        .to("admin_nodes", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "admin_nodes",
            "ix_admin_nodes_parent_code",
            &["parent_id", "code"],
        ))
        .await?;
        m.create_index(index(
            "admin_nodes",
            "ix_admin_nodes_level_code",
            &["level", "code"],
        ))
        .await?;

        let db = m.get_connection();
        let bigint = match m.get_database_backend() {
            DbBackend::Postgres => "BIGINT",
            _ => "INTEGER",
        };
        for (table, column) in NODE_REFS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {bigint} NULL REFERENCES admin_nodes (id)"
            ))
            .await?;
        }
        for table in KEYED {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(big_integer_null("province_id"))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("units", "ix_units_ward_code", &["ward_id", "code"]))
            .await?;
        m.create_index(index(
            "units",
            "ix_units_province_ward",
            &["province_id", "ward_id"],
        ))
        .await?;
        m.create_index(index("users", "ix_users_node", &["node_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("users", "ix_users_node"),
            ("units", "ix_units_province_ward"),
            ("units", "ix_units_ward_code"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
                .await?;
        }
        let db = m.get_connection();
        for table in KEYED {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN province_id"))
                .await?;
        }
        for (table, column) in NODE_REFS {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                .await?;
        }
        // A ward refers to its province (ON DELETE RESTRICT): SQLite's DROP TABLE deletes the
        // rows one by one, so the references go first.
        db.execute_unprepared("UPDATE admin_nodes SET parent_id = NULL")
            .await?;
        m.drop_table(Table::drop().table("admin_nodes").if_exists().to_owned())
            .await
    }
}
