//! MCP service: CROW's tools for LLM clients over the Model Context Protocol.
//!
//! Not built yet (the MCP issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Mcp)
}
