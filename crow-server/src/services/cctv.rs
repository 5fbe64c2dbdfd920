//! CCTV ingest service: frames from capture devices, described by the vision port.
//!
//! Not built yet (the CCTV issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Cctv)
}
