//! Web ingest: tracker event batches, sent with a publishable key from the organization's own
//! sites. Each event is validated on its own against the crow-core schema: valid ones become
//! interactions (with ids derived from the event ids, so retries never double-count) and are
//! durably enqueued before the answer; invalid ones are reported and kept aside, never silently
//! dropped. No raw IP address is stored.
//!
//! Each batch also updates its web sessions; `sessions.rs` closes a session after 30 idle minutes
//! with a summary interaction.

mod http;
pub mod service;
pub mod sessions;

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    http::routes().merge(crate::http::probes::service_routes(super::ServiceName::Ingest))
}
