//! Q&A service: retrieval-augmented answers over the organization's data.
//!
//! Not built yet (the Q&A issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Qna)
}
