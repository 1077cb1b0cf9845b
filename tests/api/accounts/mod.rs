//! Accounts: users, logging in, sessions and their tokens, passwords and the login throttle.
//! Who may do what is in `permissions.rs`; what the audit trail keeps, in `audit.rs`.

mod limits;
mod login;
mod sessions;
