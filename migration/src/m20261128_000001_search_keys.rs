//! Search keys (issue 15): `units.search` and `assets.search` hold [`search::key`] of the row's
//! code and name — decomposed, without diacritics, đ → d, lower-cased — so that a query typed
//! in NFC or NFD, with capitals or without accents, finds the row on SQLite and PostgreSQL
//! alike. Existing rows are backfilled here, in pages, inside the migration's transaction.
//!
//! The key is computed by the application's own `src/search.rs` (included below, not copied),
//! so the backfill and every write path agree. If `fold` ever changes, a new migration must
//! recompute the columns.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[path = "../../src/search.rs"]
#[allow(dead_code)]
mod search;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows read and rewritten per statement during the backfill.
const PAGE: u64 = 500;

async fn backfill(m: &SchemaManager<'_>, table: &'static str) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = m.get_database_backend();
    let mut after = 0i64;
    loop {
        let select = Query::select()
            .columns(["id", "code", "name"])
            .from(table)
            .and_where(Expr::col("id").gt(after))
            .order_by("id", Order::Asc)
            .limit(PAGE)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("", "id")?;
        // One statement per page: SET search = CASE id WHEN … THEN … END WHERE id IN (…).
        let mut case = CaseStatement::new();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let code: String = row.try_get("", "code")?;
            let name: String = row.try_get("", "name")?;
            case = case.case(Expr::col("id").eq(id), Expr::val(search::key(&code, &name)));
            ids.push(id);
        }
        let update = Query::update()
            .table(table)
            .value("search", case)
            .and_where(Expr::col("id").is_in(ids))
            .to_owned();
        let (sql, values) = match backend {
            DbBackend::Postgres => update.build(PostgresQueryBuilder),
            _ => update.build(SqliteQueryBuilder),
        };
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["units", "assets"] {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(ColumnDef::new("search").text().not_null().default(""))
                    .to_owned(),
            )
            .await?;
            backfill(m, table).await?;
        }
        match m.get_database_backend() {
            // Trigram indexes serve `search LIKE '%…%'` (pg_trgm ships with PostgreSQL and is a
            // trusted extension since PostgreSQL 13: the database owner may create it).
            DbBackend::Postgres => {
                let db = m.get_connection();
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS ix_units_search ON units USING gin (search gin_trgm_ops)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS ix_assets_search ON assets USING gin (search gin_trgm_ops)",
                )
                .await?;
            }
            // SQLite has no index for a contains search. The keys are indexed beside what a
            // search is always narrowed by, so that the total of a list (`count(*)`) is judged
            // on index entries alone (EXPLAIN QUERY PLAN: "COVERING INDEX ix_units_search",
            // "… ix_assets_search (campaign_id=? AND unit_id=?)"); the page itself walks the
            // code order and stops after `per_page` matches.
            _ => {
                m.create_index(
                    Index::create()
                        .name("ix_units_search")
                        .table("units")
                        .col("search")
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
                m.create_index(
                    Index::create()
                        .name("ix_assets_search")
                        .table("assets")
                        .col("campaign_id")
                        .col("unit_id")
                        .col("search")
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, index) in [("units", "ix_units_search"), ("assets", "ix_assets_search")] {
            m.drop_index(
                Index::drop()
                    .name(index)
                    .table(table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
            m.alter_table(Table::alter().table(table).drop_column("search").to_owned())
                .await?;
        }
        Ok(())
    }
}
