//! Operators' tools behind the command line, outside the request path: the demo ward,
//! the national-scale dataset for benchmarks, and backup / restore.

pub mod backup;
pub mod demo;
pub mod generate;
