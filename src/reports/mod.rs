//! Reports (báo cáo kiểm kê): one per unit, campaign and registered asset type, opened by the
//! registration and moving `not_started → draft → submitted → returned → submitted → accepted`.
//!
//! Submitting checks every record against every rule (including the rules that bind only at
//! submission), then freezes an immutable snapshot with its SHA-256 digest. While a report is
//! submitted or accepted its records cannot change ([`ensure_editable`]); the finance office
//! returns it to unlock them. Every write of a record locks its report row ([`report_for`])
//! and moves the report's running totals in the same transaction ([`ledger`]).
//!
//! The asset register and the registrations call into this module; it reads the records
//! through [`crate::forms::record`] and never calls back.

pub mod changes;
pub mod history;
pub mod ledger;
pub mod opening;
pub mod query;
pub mod snapshots;
pub mod state;
pub mod view;
pub mod workflow;

pub use changes::{Changes, FieldChange, RecordChange, diff};
pub use history::{ReportEvent, history};
pub use ledger::{
    Delta, ListTotals, Sums, TypeTotals, UnitTotals, add_to_report, apply_delta, list_totals, sums,
    totals,
};
pub use opening::{close, open};
pub use query::{find, lookup, of_campaign, of_unit, of_unit_in, report_for, report_query};
pub use snapshots::current_digest;
pub use state::{ReportState, StoredState, deadline, ensure_editable, is_overdue, sent_on_time};
pub use view::{ReportView, get, list};
pub use workflow::{
    AssetComment, ExtensionRequest, ReturnComment, ReturnRequest, SubmitRequest, accept,
    check_ready, grant_extension, return_report, submit,
};
