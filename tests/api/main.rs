//! The API test suite: one binary, every test on SQLite and PostgreSQL, filed by domain as in
//! `src/` (units, campaigns, registrations, assets, reports, progress, workbooks, accounts, …).

mod http;
mod support;

mod accounts;
mod api;
mod architecture;
mod assets;
mod audit;
mod campaigns;
mod catalogue;
mod distribution;
mod permissions;
mod progress;
mod registrations;
mod reliability;
mod replica;
mod reports;
mod search;
mod tls;
mod tools;
mod tree;
mod units;
mod web;
mod workbooks;
