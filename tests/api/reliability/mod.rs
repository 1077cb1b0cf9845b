//! Reliability: concurrent writers, crashes and restarts of the real binary, a lost database,
//! property tests of what reads human input, and the invariants every one of them checks.

mod concurrency;
mod crash;
mod faults;
pub mod invariants;
mod props;
