//! End-to-end: the real crow-server started in-process on port 0 with a temp data directory,
//! driven through crow-client exactly as an integration would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

mod auth;
mod better_auth;
mod browser;
mod foundation;
mod gateway;
mod ingest;
mod services;
mod support;
