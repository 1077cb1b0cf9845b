use sea_orm::entity::prelude::*;

use super::sea_orm_active_enums::StoredState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub unit_id: i64,
    pub province_id: Option<i64>,
    pub type_code: String,
    pub form_code: String,
    pub state: StoredState,
    pub nil_return: bool,
    pub record_count: i64,
    pub original_cost_total: i64,
    pub depreciation_total: i64,
    pub remaining_value_total: i64,
    pub first_submitted_at: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    pub returned_at: Option<DateTimeUtc>,
    pub return_reason: Option<String>,
    pub return_comments: Option<Json>,
    pub accepted_at: Option<DateTimeUtc>,
    pub extension_deadline: Option<Date>,
    pub extension_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
