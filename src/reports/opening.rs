//! Opening and closing reports: registering an asset type opens the unit's report for it (its
//! obligation to the finance office); dropping the type closes it while it is empty and unsent.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{
    entities::report,
    error::{AppError, AppResult},
};

use super::StoredState;

/// Opens a unit's report of one asset type (inside the registration's transaction);
/// `province_id` is the unit's (the distribution key, see [`crate::shard`]).
pub async fn open(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    province_id: Option<i64>,
    type_code: &str,
    form_code: &str,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    Ok(report::ActiveModel {
        campaign_id: Set(campaign_id),
        unit_id: Set(unit_id),
        province_id: Set(province_id),
        type_code: Set(type_code.to_string()),
        form_code: Set(form_code.to_string()),
        state: Set(StoredState::Open),
        nil_return: Set(false),
        record_count: Set(0),
        original_cost_total: Set(0),
        depreciation_total: Set(0),
        remaining_value_total: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Deletes a report whose type the unit no longer registers; 409 once it holds a record or
/// was sent (inside the registration's transaction).
pub async fn close(db: &impl ConnectionTrait, r: &report::Model) -> AppResult<()> {
    if r.record_count > 0 || r.state != StoredState::Open || r.nil_return {
        return Err(AppError::conflict(
            format!(
                "Không thể bỏ loại tài sản {} vì báo cáo mẫu {} đã có {} tài sản hoặc đã gửi; hãy xóa tài sản trước.",
                r.type_code, r.form_code, r.record_count
            ),
            format!(
                "Cannot drop asset type {}: its form {} report holds {} asset(s) or was sent; delete the assets first.",
                r.type_code, r.form_code, r.record_count
            ),
        ));
    }
    // Guarded by the same conditions, so that an asset entered since the check
    // (a concurrent transaction) keeps its report instead of being orphaned.
    let gone = report::Entity::delete_many()
        .filter(report::Column::Id.eq(r.id))
        .filter(report::Column::RecordCount.eq(0))
        .filter(report::Column::State.eq(StoredState::Open))
        .filter(report::Column::NilReturn.eq(false))
        .exec(db)
        .await?;
    if gone.rows_affected != 1 {
        return Err(AppError::conflict(
            format!(
                "Báo cáo mẫu {} vừa có thay đổi; hãy tải lại rồi đăng ký lại.",
                r.form_code
            ),
            format!(
                "The form {} report changed meanwhile; reload and register again.",
                r.form_code
            ),
        ));
    }
    Ok(())
}
