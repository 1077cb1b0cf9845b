//! The API test suite: one binary, every test on SQLite and PostgreSQL.

mod support;

mod accounts;
mod assets;
mod audit;
mod backup;
mod board;
mod crash;
mod faults;
mod form_layouts;
mod foundation;
mod generate;
mod hostile_files;
mod hostile_uploads;
mod http;
mod invariants;
mod limits;
mod login;
mod pages;
mod permissions;
mod props;
mod reliability;
mod reports;
mod search;
mod spreadsheets;
mod tls;
