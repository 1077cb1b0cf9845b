//! The API test suite: one binary, every test on SQLite and PostgreSQL.

mod support;

mod accounts;
mod assets;
mod board;
mod foundation;
mod generate;
mod reports;
