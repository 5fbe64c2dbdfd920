//! Web ingest service: tracker event batches with publishable keys.
//!
//! Not built yet (the web-tracking issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Ingest)
}
