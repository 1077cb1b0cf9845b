//! Progress: the campaign's board, the ward's summary and the reminders, and the board checked
//! against a row-by-row recount.

mod board;
mod recount;
mod rollup;
