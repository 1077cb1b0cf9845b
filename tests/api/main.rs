//! The API test suite: one binary, every test on SQLite and PostgreSQL.

mod support;

mod accounts;
mod assets;
mod audit;
mod foundation;
mod http;
mod permissions;
mod progress;
mod reliability;
mod reports;
mod search;
mod tls;
mod tools;
mod web;
mod workbooks;
