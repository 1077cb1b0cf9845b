//! The report's ledger: the running totals kept on each report row (records, original cost,
//! depreciation, remaining value), changed by every write of a record in the same
//! transaction ([`Delta`], [`apply_delta`], [`add_to_report`]), and the sums of the records
//! those totals stand for ([`sums`], [`totals`], [`list_totals`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Select,
    sea_query::{Expr, Func, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    campaigns,
    entities::{asset, report},
    error::AppResult,
    state::AppState,
};

use super::query;

/// A change to a report's running totals.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// Records added (negative: removed).
    pub count: i64,
    /// Original cost added, đồng.
    pub original_cost: i64,
    /// Depreciation added, đồng.
    pub depreciation: i64,
    /// Remaining value added, đồng.
    pub remaining_value: i64,
}

impl Delta {
    /// `sign` × one stored asset.
    pub fn of(m: &asset::Model, sign: i64) -> Delta {
        Delta {
            count: sign,
            original_cost: sign * m.original_cost,
            depreciation: sign * m.depreciation,
            remaining_value: sign * m.remaining_value,
        }
    }

    /// Adds another delta.
    pub fn add(&mut self, o: Delta) {
        self.count += o.count;
        self.original_cost += o.original_cost;
        self.depreciation += o.depreciation;
        self.remaining_value += o.remaining_value;
    }
}

/// Applies a delta to a report's running totals (inside the caller's transaction).
pub async fn apply_delta(
    db: &impl ConnectionTrait,
    report_id: i64,
    d: Delta,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let counters = [
        (report::Column::RecordCount, d.count),
        (report::Column::OriginalCostTotal, d.original_cost),
        (report::Column::DepreciationTotal, d.depreciation),
        (report::Column::RemainingValueTotal, d.remaining_value),
    ];
    counters
        .into_iter()
        .fold(report::Entity::update_many(), |q, (col, by)| {
            q.col_expr(col, Expr::col(col).add(by))
        })
        .col_expr(report::Column::UpdatedAt, Expr::value(now))
        .filter(report::Column::Id.eq(report_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds `sign` × the asset's values to its report's running totals.
pub async fn add_to_report(
    db: &impl ConnectionTrait,
    report_id: i64,
    m: &asset::Model,
    sign: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    apply_delta(db, report_id, Delta::of(m, sign), now).await
}

/// The totals row of an asset list: records, original cost and remaining value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListTotals {
    /// Records.
    pub count: i64,
    /// Original cost, đồng.
    pub original_cost: i64,
    /// Remaining value, đồng.
    pub remaining_value: i64,
}

/// The totals row of a unit's list of one type: the whole type from its report's running
/// totals (kept by every write, `apply_delta`), one section summed from the index
/// `ix_assets_section_sums` (never the wide rows). The same figures as [`totals`] gives.
pub async fn list_totals(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
    section: Option<&str>,
) -> AppResult<ListTotals> {
    let Some(section) = section else {
        let r = query::lookup(&state.db, campaign_id, unit_id, type_code).await?;
        return Ok(r
            .map(|r| ListTotals {
                count: r.record_count,
                original_cost: r.original_cost_total,
                remaining_value: r.remaining_value_total,
            })
            .unwrap_or_default());
    };
    #[derive(Debug, sea_orm::FromQueryResult)]
    struct Row {
        count: i64,
        original_cost: i64,
        remaining_value: i64,
    }
    let row = asset::Entity::find()
        .select_only()
        // count(*), not count(id): the index holds no id, and every row it holds counts.
        .column_as(Expr::cust("CAST(COUNT(*) AS bigint)"), "count")
        .column_as(sum(asset::Column::OriginalCost), "original_cost")
        .column_as(sum(asset::Column::RemainingValue), "remaining_value")
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::UnitId.eq(unit_id))
        .filter(asset::Column::TypeCode.eq(type_code))
        .filter(asset::Column::Section.eq(section))
        .into_model::<Row>()
        .one(&state.db)
        .await?;
    Ok(row
        .map(|r| ListTotals {
            count: r.count,
            original_cost: r.original_cost,
            remaining_value: r.remaining_value,
        })
        .unwrap_or_default())
}

/// Sums of one group of records.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Sums {
    /// Records.
    pub count: i64,
    /// Original cost, đồng.
    pub original_cost: i64,
    /// Of which state budget.
    pub original_cost_budget: i64,
    /// Of which other sources.
    pub original_cost_other: i64,
    /// Accumulated depreciation.
    pub depreciation: i64,
    /// Remaining value.
    pub remaining_value: i64,
    /// Records by usage status code.
    pub by_status: BTreeMap<String, i64>,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.count += other.count;
        self.original_cost += other.original_cost;
        self.original_cost_budget += other.original_cost_budget;
        self.original_cost_other += other.original_cost_other;
        self.depreciation += other.depreciation;
        self.remaining_value += other.remaining_value;
        for (k, v) in &other.by_status {
            *self.by_status.entry(k.clone()).or_default() += v;
        }
    }
}

/// Totals of one asset type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TypeTotals {
    /// Asset type code.
    pub asset_type: String,
    /// Form code.
    pub form_code: String,
    /// Totals of the type.
    pub total: Sums,
    /// Totals per section (empty when the form has none).
    pub sections: BTreeMap<String, Sums>,
}

/// Totals of a unit's records in a campaign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnitTotals {
    /// Per asset type.
    pub types: Vec<TypeTotals>,
    /// All types together.
    pub total: Sums,
}

/// Sums a unit's records per type, section and usage status in SQL.
pub async fn totals(state: &AppState, campaign_id: i64, unit_id: i64) -> AppResult<UnitTotals> {
    campaigns::get(&state.db, campaign_id).await?;
    #[derive(Debug, sea_orm::FromQueryResult)]
    struct Row {
        type_code: String,
        form_code: String,
        section: Option<String>,
        usage_status: String,
        count: i64,
        original_cost: i64,
        original_cost_budget: i64,
        original_cost_other: i64,
        depreciation: i64,
        remaining_value: i64,
    }
    let rows = sums(&[
        asset::Column::TypeCode,
        asset::Column::FormCode,
        asset::Column::Section,
        asset::Column::UsageStatus,
    ])
    .filter(asset::Column::CampaignId.eq(campaign_id))
    .filter(asset::Column::UnitId.eq(unit_id))
    .into_model::<Row>()
    .all(&state.db)
    .await?;
    let mut types: BTreeMap<String, TypeTotals> = BTreeMap::new();
    let mut total = Sums::default();
    for r in rows {
        let s = Sums {
            count: r.count,
            original_cost: r.original_cost,
            original_cost_budget: r.original_cost_budget,
            original_cost_other: r.original_cost_other,
            depreciation: r.depreciation,
            remaining_value: r.remaining_value,
            by_status: BTreeMap::from([(r.usage_status.clone(), r.count)]),
        };
        let t = types
            .entry(r.type_code.clone())
            .or_insert_with(|| TypeTotals {
                asset_type: r.type_code.clone(),
                form_code: r.form_code.clone(),
                total: Sums::default(),
                sections: BTreeMap::new(),
            });
        t.total.add(&s);
        if let Some(sec) = r.section {
            t.sections.entry(sec).or_default().add(&s);
        }
        total.add(&s);
    }
    Ok(UnitTotals {
        types: types.into_values().collect(),
        total,
    })
}

/// `COALESCE(SUM(column), 0)` as a `bigint`: the sum of a money or quantity column, 0 over no rows.
pub fn sum(c: asset::Column) -> SimpleExpr {
    Expr::expr(Func::coalesce([Expr::col(c).sum(), Expr::val(0i64)])).cast_as("bigint")
}

/// The sums of the records, grouped by the columns `by` (each selected under its own name):
/// `count`, and the sums `original_cost`, `original_cost_budget`, `original_cost_other`,
/// `depreciation`, `remaining_value` and `qty_counted`. The caller adds its filters and reads
/// the columns it needs.
pub fn sums(by: &[asset::Column]) -> Select<asset::Entity> {
    let mut q = asset::Entity::find().select_only();
    for c in by {
        q = q.column(*c).group_by(*c);
    }
    q.column_as(
        Expr::col(asset::Column::Id).count().cast_as("bigint"),
        "count",
    )
    .column_as(sum(asset::Column::OriginalCost), "original_cost")
    .column_as(
        sum(asset::Column::OriginalCostBudget),
        "original_cost_budget",
    )
    .column_as(sum(asset::Column::OriginalCostOther), "original_cost_other")
    .column_as(sum(asset::Column::Depreciation), "depreciation")
    .column_as(sum(asset::Column::RemainingValue), "remaining_value")
    .column_as(sum(asset::Column::QtyCounted), "qty_counted")
}
