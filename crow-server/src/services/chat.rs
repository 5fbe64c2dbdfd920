//! Chat service: the multi-agent chat with tool calling, streamed.
//!
//! Not built yet (the chat issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Chat)
}
