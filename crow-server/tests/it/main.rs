//! crow-server's integration tests, in one binary (faster to link than one per file).

mod cli;
mod conformance;
mod fixtures;
mod runtime;
mod sqlite;
