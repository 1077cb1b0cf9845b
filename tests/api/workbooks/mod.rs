//! Workbooks: standard forms out, accountants' workbooks in — read back and round-tripped —
//! and hostile files refused.

mod hostile_files;
mod hostile_uploads;
mod import;
