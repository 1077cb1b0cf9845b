//! Time: stored in UTC, deadlines judged in Vietnam's local time.
//!
//! Vietnam (Asia/Ho_Chi_Minh) has kept UTC+7 without daylight saving since 1975,
//! so a fixed offset gives the same answers as the time-zone database for every
//! date this service handles, without shipping that database.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

/// Asia/Ho_Chi_Minh, UTC+7.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// The local calendar date of an instant in Vietnam.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vietnam()).date_naive()
}

/// The local year of an instant in Vietnam (the cut-off 0h00 01/01/2026 +07 is in 2026).
pub fn local_year(at: DateTime<Utc>) -> i32 {
    at.with_timezone(&vietnam()).year()
}

/// The first instant after a deadline date has ended in Vietnam (00:00 local the next day).
pub fn deadline_end(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    vietnam()
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| DateTime::<Utc>::MAX_UTC)
}

/// Whether `at` is on or before the end of the local deadline day.
pub fn on_time(at: DateTime<Utc>, deadline: NaiveDate) -> bool {
    at < deadline_end(deadline)
}

/// Whole local days from `now` to the end of `deadline` (negative once passed).
pub fn days_left(now: DateTime<Utc>, deadline: NaiveDate) -> i64 {
    (deadline - local_date(now)).num_days()
}

/// Where "now" comes from; tests use a fixed clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, demos).
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Arc::new(Mutex::new(at)))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_date_deadline_closes_at_the_end_of_that_day_in_vietnam() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        assert!(on_time(at("2026-03-31T23:59:59+07:00"), d));
        assert!(!on_time(at("2026-04-01T00:00:00+07:00"), d));
        // 16:59:59 UTC is still 23:59:59 in Vietnam.
        assert!(on_time(at("2026-03-31T16:59:59Z"), d));
        assert!(!on_time(at("2026-03-31T17:00:00Z"), d));
    }

    #[test]
    fn the_cutoff_instant_belongs_to_the_new_year_locally() {
        assert_eq!(local_year(at("2026-01-01T00:00:00+07:00")), 2026);
        assert_eq!(local_year(at("2025-12-31T17:00:00Z")), 2026);
    }
}
