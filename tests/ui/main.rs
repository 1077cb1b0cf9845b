//! Browser tests of the web UI: real Chromium (Debian's chromium + chromium-driver) driven by
//! fantoccini against the real router, on SQLite and on PostgreSQL, with axe-core on every page.
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --test ui`.

#[allow(dead_code)]
mod support;

mod admin;
mod attacks;
mod day;
mod harness;
mod keyboard;
mod login;
mod office;
mod roles;
mod rollup;
mod screenshots;
mod search;
