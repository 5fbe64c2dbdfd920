//! crow-server's integration tests, in one binary (faster to link than one per file).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

mod auth;
mod cli;
mod conformance;
mod fixtures;
mod gateway;
mod guard;
mod ingest;
mod runtime;
mod serve;
mod sessions;
mod sqlite;
