use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub unit_id: i64,
    pub province_id: Option<i64>,
    pub type_code: String,
    pub form_code: String,
    pub section: Option<String>,
    pub code: String,
    pub name: String,
    pub search: String,
    pub unit_of_measure: Option<String>,
    pub qty_books: Option<i64>,
    pub qty_counted: Option<i64>,
    pub qty_difference: Option<i64>,
    pub original_cost: i64,
    pub original_cost_budget: i64,
    pub original_cost_other: i64,
    pub depreciation: i64,
    pub remaining_value: i64,
    pub price_basis: String,
    pub usage_status: String,
    pub origin: Option<String>,
    pub year_in_use: Option<i32>,
    pub location: Option<String>,
    pub legal_documents: Option<Json>,
    pub note: Option<String>,
    pub fields: Json,
    pub version: i32,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
