//! Billing service: checkout, subscriptions and signature-verified payment webhooks.
//!
//! Not built yet (the billing issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Billing)
}
