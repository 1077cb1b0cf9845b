//! Where a report stands: the state stored in `reports.state` ([`StoredState`]), the state the
//! API shows ([`ReportState`], which reads an open report as not started or draft by its
//! records), the deadline in force, and the lock on the records of a sent report.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveEnum, Iterable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    clock,
    entities::{campaign, report},
    error::{AppError, AppResult},
};

pub use crate::entities::sea_orm_active_enums::StoredState;

impl StoredState {
    /// The states that mean "sent" (standing with the finance office; records locked).
    pub const SENT: [StoredState; 2] = [StoredState::Submitted, StoredState::Accepted];
    /// The states other than [`StoredState::Open`].
    pub const MARKED: [StoredState; 3] = [
        StoredState::Submitted,
        StoredState::Returned,
        StoredState::Accepted,
    ];

    /// The stored string: the variant's `string_value` in `entities::sea_orm_active_enums`, the
    /// one place the strings are written.
    pub fn as_str(self) -> &'static str {
        static STORED: LazyLock<Vec<(StoredState, String)>> = LazyLock::new(|| {
            StoredState::iter()
                .map(|s| (s, ActiveEnum::to_value(&s)))
                .collect()
        });
        STORED
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("", |(_, stored)| stored.as_str())
    }

    /// Whether the report stands with the finance office.
    pub fn is_sent(self) -> bool {
        StoredState::SENT.contains(&self)
    }

    /// A list of states as SQL text for `IN (…)`: `'submitted', 'accepted'` (the stored
    /// strings are fixed words, so they need no escaping).
    pub fn sql_list(states: &[StoredState]) -> String {
        states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for StoredState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a report stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Registered, no record yet.
    NotStarted,
    /// Records being entered.
    Draft,
    /// Sent to the finance office; records locked.
    Submitted,
    /// Sent back for correction; records unlocked.
    Returned,
    /// Accepted by the finance office; records locked for good.
    Accepted,
}

impl ReportState {
    /// Every state, in workflow order.
    pub const ALL: [ReportState; 5] = [
        ReportState::NotStarted,
        ReportState::Draft,
        ReportState::Submitted,
        ReportState::Returned,
        ReportState::Accepted,
    ];

    /// The state of a stored report (`open` reads as not started or draft by its records).
    pub fn of(r: &report::Model) -> ReportState {
        ReportState::from_stored(r.state, r.record_count)
    }

    /// The state from the stored `state` column and the record count.
    pub fn from_stored(state: StoredState, record_count: i64) -> ReportState {
        match state {
            StoredState::Submitted => ReportState::Submitted,
            StoredState::Returned => ReportState::Returned,
            StoredState::Accepted => ReportState::Accepted,
            StoredState::Open if record_count > 0 => ReportState::Draft,
            StoredState::Open => ReportState::NotStarted,
        }
    }

    /// The stored state this state is kept as (not started and draft are both `open`).
    pub fn stored(self) -> StoredState {
        match self {
            ReportState::NotStarted | ReportState::Draft => StoredState::Open,
            ReportState::Submitted => StoredState::Submitted,
            ReportState::Returned => StoredState::Returned,
            ReportState::Accepted => StoredState::Accepted,
        }
    }

    /// Name as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::NotStarted => "not_started",
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Returned => "returned",
            ReportState::Accepted => "accepted",
        }
    }

    /// Vietnamese name, for messages and sheets.
    pub fn label_vi(self) -> &'static str {
        match self {
            ReportState::NotStarted => "chưa bắt đầu",
            ReportState::Draft => "đang nhập",
            ReportState::Submitted => "đã gửi",
            ReportState::Returned => "bị trả lại",
            ReportState::Accepted => "đã chấp nhận",
        }
    }

    /// Whether the unit has a report standing with the finance office.
    pub fn is_sent(self) -> bool {
        matches!(self, ReportState::Submitted | ReportState::Accepted)
    }
}

/// The deadline that binds a report: its extension, else the campaign's.
pub fn deadline(c: &campaign::Model, r: &report::Model) -> NaiveDate {
    r.extension_deadline.unwrap_or(c.submission_deadline)
}

/// Whether a report is overdue at `now`: its deadline has passed and it is not sent.
pub fn is_overdue(c: &campaign::Model, r: &report::Model, now: DateTime<Utc>) -> bool {
    !ReportState::of(r).is_sent() && !clock::on_time(now, deadline(c, r))
}

/// Whether a report was first sent on time (`None` while never sent).
pub fn sent_on_time(c: &campaign::Model, r: &report::Model) -> Option<bool> {
    r.first_submitted_at
        .map(|at| clock::on_time(at, deadline(c, r)))
}

/// Fails with 409 while the report is submitted or accepted (a returned report unlocks).
pub fn ensure_editable(r: &report::Model) -> AppResult<()> {
    if r.state.is_sent() {
        let state_vi = if r.state == StoredState::Submitted {
            "đã gửi"
        } else {
            "đã được chấp nhận"
        };
        return Err(AppError::new(
            crate::error::Problem::Locked,
            format!(
                "Báo cáo mẫu {} {state_vi}, không thể thêm, sửa hoặc xóa tài sản; chờ phòng tài chính trả lại báo cáo để sửa.",
                r.form_code
            ),
            format!(
                "The form {} report is {}; its assets cannot be added, changed or deleted until the finance office returns it.",
                r.form_code, r.state
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_state_is_written_as_its_stored_string_and_read_back() {
        for s in StoredState::iter() {
            assert_eq!(s.to_value(), s.as_str());
            assert_eq!(
                StoredState::try_from_value(&s.as_str().to_string()).ok(),
                Some(s)
            );
        }
    }

    #[test]
    fn a_report_state_is_kept_as_the_stored_state_it_is_read_from() {
        for s in ReportState::ALL {
            let records = i64::from(s != ReportState::NotStarted);
            assert_eq!(ReportState::from_stored(s.stored(), records), s);
        }
        assert_eq!(
            StoredState::sql_list(&StoredState::SENT),
            "'submitted', 'accepted'"
        );
    }
}
