//! The import's bulk write: the rows of a batch in as few statements as the database allows,
//! inside the import's transaction ([`WriteTx`]) — `COPY … FROM STDIN` on PostgreSQL, multi-row
//! prepared `INSERT`s (as many rows a statement as SQLite's bind-parameter limit allows) on
//! SQLite.
//!
//! The columns are the entity's: every column the caller's row builder set, in the table's
//! order. Nothing here names a column of a table: a column added to `assets` is written once it
//! is set where an imported asset is built (`new_asset` in [`super::import`] for the fixed
//! columns, [`crate::forms::record::fill`] for the form's).

use std::collections::HashMap;
use std::fmt::Write as _;

use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait,
    Iden, Iterable, Set, Statement, Value,
};

use crate::{db::WriteTx, entities::asset};

/// Most bind parameters of one SQLite statement (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;

/// Most bind parameters of one PostgreSQL statement (the protocol counts them in 16 bits).
const PG_MAX_PARAMS: usize = 65_535;

type Column<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Column;

/// The columns of `row` that hold a value (set, or unchanged from a model), in the table's order.
fn set_columns<A: ActiveModelTrait>(row: &A) -> Vec<Column<A>> {
    Column::<A>::iter()
        .filter(|c| !matches!(row.get(*c), ActiveValue::NotSet))
        .collect()
}

fn table_of<A: ActiveModelTrait>() -> String {
    <A::Entity as Default>::default().table_name().to_string()
}

/// The values of `columns`, taken out of `row` (not copied): each must be set.
fn take_values<A: ActiveModelTrait>(
    row: &mut A,
    columns: &[Column<A>],
) -> Result<Vec<Value>, DbErr> {
    columns
        .iter()
        .map(|c| {
            row.take(*c).into_value().ok_or_else(|| {
                DbErr::Custom(format!("bulk write: column {} not set", c.to_string()))
            })
        })
        .collect()
}

/// Inserts `rows`, every one with the same columns set; `returning` names the columns whose
/// values come back (SQLite only; `None` reads nothing back).
async fn insert_sqlite<A: ActiveModelTrait>(
    tx: &WriteTx,
    mut rows: Vec<A>,
    returning: Option<&str>,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = set_columns(first);
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.to_string()))
        .collect();
    let per_statement = (SQLITE_MAX_PARAMS / columns.len().max(1)).max(1);
    let head = format!(
        "INSERT INTO \"{}\" ({}) VALUES ",
        table_of::<A>(),
        names.join(", ")
    );
    let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut out = Vec::new();
    for chunk in rows.chunks_mut(per_statement) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * (tuple.len() + 2) + 32);
        sql.push_str(&head);
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for (i, row) in chunk.iter_mut().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&tuple);
            values.extend(take_values(row, &columns)?);
        }
        let stmt = |sql: String| Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        match returning {
            Some(r) => {
                let _ = write!(sql, " RETURNING {r}");
                out.extend(tx.query_all_raw(stmt(sql)).await?);
            }
            None => {
                tx.execute_raw(stmt(sql)).await?;
            }
        }
    }
    Ok(out)
}

/// `COPY`s `rows` (every one with the same columns set) into their table.
async fn copy<A: ActiveModelTrait>(tx: &WriteTx, mut rows: Vec<A>) -> Result<(), DbErr> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let columns = set_columns(first);
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let mut data = String::new();
    for row in &mut rows {
        for (i, v) in take_values(row, &columns)?.iter().enumerate() {
            if i > 0 {
                data.push('\t');
            }
            copy_text(&mut data, v)?;
        }
        data.push('\n');
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let copied = tx
        .copy_in(&table_of::<A>(), &names, data.as_bytes())
        .await?;
    if copied != rows.len() as u64 {
        return Err(DbErr::Custom(format!(
            "COPY wrote {copied} rows of {}",
            rows.len()
        )));
    }
    Ok(())
}

/// A value in `COPY`'s text format.
fn copy_text(out: &mut String, v: &Value) -> Result<(), DbErr> {
    match v {
        Value::Bool(Some(b)) => out.push(if *b { 't' } else { 'f' }),
        Value::TinyInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::SmallInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::Int(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::BigInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::String(Some(s)) => escape(out, s),
        Value::Json(Some(j)) => escape(out, &j.to_string()),
        Value::ChronoDateTimeUtc(Some(t)) => {
            out.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        }
        Value::Bool(None)
        | Value::TinyInt(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::Json(None)
        | Value::ChronoDateTimeUtc(None) => out.push_str("\\N"),
        other => {
            return Err(DbErr::Custom(format!(
                "bulk insert: no COPY text for {other:?}"
            )));
        }
    }
    Ok(())
}

/// Text in `COPY`'s text format: backslash, tab, newline and carriage return escaped.
fn escape(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Inserts `rows` (every one with the same columns set, their ids not set): `COPY` on
/// PostgreSQL, multi-row `INSERT`s on SQLite.
pub(super) async fn insert_all<A: ActiveModelTrait>(
    tx: &WriteTx,
    rows: Vec<A>,
) -> Result<(), DbErr> {
    if tx.can_copy() {
        copy(tx, rows).await
    } else {
        insert_sqlite(tx, rows, None).await.map(|_| ())
    }
}

/// Updates assets by id, each only while its version is still the one given: every column the
/// rows set (the same in each; the id excepted) from one `UPDATE … FROM (VALUES …)` per as many
/// rows as the database's bind-parameter limit allows. Returns how many rows were updated: fewer
/// than given means another writer changed one of them meanwhile.
pub(super) async fn update_assets(
    tx: &WriteTx,
    mut rows: Vec<(asset::ActiveModel, i32)>,
) -> Result<u64, DbErr> {
    let Some((first, _)) = rows.first() else {
        return Ok(0);
    };
    let columns: Vec<_> = set_columns(first)
        .into_iter()
        .filter(|c| !matches!(c, asset::Column::Id))
        .collect();
    let backend = if tx.can_copy() {
        DbBackend::Postgres
    } else {
        DbBackend::Sqlite
    };
    // The VALUES list's columns are column1 (id), column2 (version expected), then the rows'.
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("\"{}\" = v.column{}", c.to_string(), i + 3))
        .collect();
    let table = table_of::<asset::ActiveModel>();
    let (id, version) = (
        asset::Column::Id.to_string(),
        asset::Column::Version.to_string(),
    );
    let width = columns.len() + 2;
    let max_params = if backend == DbBackend::Postgres {
        PG_MAX_PARAMS
    } else {
        SQLITE_MAX_PARAMS
    };
    let mut updated = 0;
    for chunk in rows.chunks_mut((max_params / width).max(1)) {
        let mut sql = format!("UPDATE \"{table}\" SET {} FROM (VALUES ", sets.join(", "));
        let mut values = Vec::with_capacity(chunk.len() * width);
        for (i, (row, expected)) in chunk.iter_mut().enumerate() {
            sql.push_str(if i > 0 { ", (" } else { "(" });
            values.push(
                row.get(asset::Column::Id)
                    .into_value()
                    .ok_or_else(|| DbErr::Custom("bulk update: an asset without its id".into()))?,
            );
            values.push(Value::Int(Some(*expected)));
            values.extend(take_values(row, &columns)?);
            for k in values.len() - width..values.len() {
                if k % width > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    DbBackend::Postgres => {
                        let _ = write!(sql, "${}", k + 1);
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        let _ = write!(
            sql,
            ") AS v WHERE \"{table}\".\"{id}\" = v.column1 AND \"{table}\".\"{version}\" = v.column2"
        );
        updated += tx
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected();
    }
    Ok(updated)
}

/// Inserts new assets (ids not set, every other column set); their ids, by code.
///
/// On PostgreSQL the ids are drawn from the table's sequence first, then the rows `COPY`ed with
/// them; on SQLite they come back from the `INSERT` (`RETURNING id, code`).
pub(super) async fn insert_assets(
    tx: &WriteTx,
    mut rows: Vec<asset::ActiveModel>,
) -> Result<HashMap<String, i64>, DbErr> {
    let code = asset::Column::Code.to_string();
    let id = asset::Column::Id.to_string();
    if !tx.can_copy() {
        let returning = format!("\"{id}\", \"{code}\"");
        return insert_sqlite(tx, rows, Some(&returning))
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String>("", &code)?, r.try_get::<i64>("", &id)?)))
            .collect();
    }
    let table = table_of::<asset::ActiveModel>();
    let ids = tx
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', '{id}')) AS id \
                 FROM generate_series(1, $1)"
            ),
            [Value::BigInt(Some(rows.len() as i64))],
        ))
        .await?;
    if ids.len() != rows.len() {
        return Err(DbErr::Custom(format!(
            "{} ids drawn for {} assets",
            ids.len(),
            rows.len()
        )));
    }
    let mut by_code = HashMap::with_capacity(rows.len());
    for (row, drawn) in rows.iter_mut().zip(&ids) {
        let n: i64 = drawn.try_get("", "id")?;
        row.id = Set(n);
        if let Some(Value::String(Some(c))) = row.get(asset::Column::Code).into_value() {
            by_code.insert(c, n);
        }
    }
    copy(tx, rows).await?;
    Ok(by_code)
}
