//! Pattern service: discovers patterns over interactions on hourly…yearly schedules.
//!
//! Not built yet (the patterns issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Patterns)
}
