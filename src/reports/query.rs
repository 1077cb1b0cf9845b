//! Finding reports: one by its unit and type (with or without the row lock), a unit's, a
//! campaign's.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    auth::Scope,
    entities::report,
    error::{AppError, AppResult},
    shard, tree,
};

/// The query for one unit's report of one asset type in a campaign.
pub fn report_query(
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> sea_orm::Select<report::Entity> {
    report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .filter(report::Column::TypeCode.eq(type_code))
}

/// One unit's report of one asset type, or 404.
pub async fn find(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<report::Model> {
    lookup(db, campaign_id, unit_id, type_code)
        .await?
        .ok_or_else(|| missing(type_code))
}

/// The 404 of a report of a type the unit did not register.
pub(super) fn missing(type_code: &str) -> AppError {
    AppError::not_found(
        &format!("báo cáo loại tài sản {type_code} của đơn vị (đơn vị chưa đăng ký loại này?)"),
        &format!("Report for asset type {type_code} (is the type registered?)"),
    )
}

/// One unit's report of one asset type, its row locked until the transaction ends (`FOR
/// UPDATE` on PostgreSQL; SQLite's single connection serialises transactions anyway): a
/// transition and a record change of the same report then never interleave (see
/// [`report_for`]).
pub(super) async fn locked(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<Option<report::Model>> {
    Ok(report_query(campaign_id, unit_id, type_code)
        .lock_exclusive()
        .one(db)
        .await?)
}

/// The report a unit opened by registering `type_code`, or 422 saying the type is not registered.
///
/// The report row is locked (`FOR UPDATE` on PostgreSQL; SQLite's single connection
/// serialises every transaction anyway) for the rest of the caller's transaction, so a
/// record change and a submission of the same report never interleave: either the change
/// commits first and the submission's snapshot includes it, or the submission commits first
/// and the change sees the report locked.
pub async fn report_for(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<report::Model> {
    locked(db, campaign_id, unit_id, type_code)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "asset_type",
                "not_registered",
                &format!("Đơn vị chưa đăng ký kiểm kê loại tài sản {type_code} trong đợt này; hãy bổ sung đăng ký trước khi nhập tài sản."),
                &format!("The unit has not registered asset type {type_code} in this campaign; add it to the registration first."),
            )
        })
}

/// One unit's report of one asset type, if the unit registered the type.
pub async fn lookup(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<Option<report::Model>> {
    Ok(report_query(campaign_id, unit_id, type_code)
        .one(db)
        .await?)
}

fn of_unit_query(
    campaign_id: i64,
    unit_id: i64,
    key: Option<i64>,
) -> sea_orm::Select<report::Entity> {
    report::Entity::find()
        .filter(shard::matches(report::Column::ProvinceId, key))
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .order_by_asc(report::Column::TypeCode)
}

/// Every report of a unit in a campaign (one per registered type), by type.
pub async fn of_unit(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
) -> AppResult<Vec<report::Model>> {
    let key = shard::of_unit(db, unit_id).await?;
    of_unit_in(db, campaign_id, unit_id, key).await
}

/// [`of_unit`] when the caller knows the unit's distribution key (its province).
pub async fn of_unit_in(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    key: Option<i64>,
) -> AppResult<Vec<report::Model>> {
    Ok(of_unit_query(campaign_id, unit_id, key).all(db).await?)
}

/// [`of_unit`], locking the rows until the transaction ends, in one order (by type) so that
/// a racing transition of one of them waits instead of failing.
pub(super) async fn of_unit_for_update(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
) -> AppResult<Vec<report::Model>> {
    let key = shard::of_unit(db, unit_id).await?;
    Ok(of_unit_query(campaign_id, unit_id, key)
        .lock_exclusive()
        .all(db)
        .await?)
}

/// Every report of a campaign of the units `scope` covers.
pub async fn of_campaign(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    scope: &Scope,
) -> AppResult<Vec<report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(tree::units_of(report::Column::UnitId, scope))
        .all(db)
        .await?)
}
