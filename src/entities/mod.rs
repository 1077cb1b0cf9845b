//! Generated-shape sea-orm entities: one struct per table, no behaviour.
//! Behaviour and invariants live in the domain modules.
pub mod admin_node;
pub mod asset;
pub mod audit_event;
pub mod campaign;
pub mod registration;
pub mod report;
pub mod report_snapshot;
pub mod sea_orm_active_enums;
pub mod session;
pub mod unit;
pub mod user;
pub mod user_unit;
