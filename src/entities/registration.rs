use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub unit_id: i64,
    pub province_id: Option<i64>,
    pub team_decision_no: String,
    pub team_decision_date: Option<Date>,
    pub team_members: Json,
    pub registered_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub late_changes: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
