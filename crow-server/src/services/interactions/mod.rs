//! Interaction service: consumes the interaction queue (idempotent on the producer-fixed ids),
//! analyses each interaction (embedded default: deterministic rules), stores it, and serves the
//! BOLA-checked query API — list with filters and cursor pagination, one interaction, a
//! session's timeline, counts by kind.
//!
//! Not built yet: linking product references to catalogue products (the catalogue comes with
//! its issue) and counts by product over time buckets.

pub mod analysis;
pub mod consumer;
mod http;

pub use consumer::Consumer;

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    http::routes().merge(crate::http::probes::service_routes(super::ServiceName::Interactions))
}
