use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub registration_code: Option<String>,
    pub name: String,
    pub search: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub address: Option<String>,
    pub accountant_name: Option<String>,
    pub accountant_phone: Option<String>,
    pub accountant_email: Option<String>,
    pub active: bool,
    pub ward_id: Option<i64>,
    pub province_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
