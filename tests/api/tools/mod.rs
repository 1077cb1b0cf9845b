//! The operator's tools: the demo ward, the national-scale generator, backup and restore.

mod backup;
mod demo;
mod generate;
