//! Organizations service: the internal organization records every tenant-scoped store keys on —
//! read and update (name, logo, metadata, the site origins allowed to send tracker events), the
//! member list, `by-auth-id` resolution for the gateway, and the AI context built through the
//! AI port. Every route but `by-auth-id` passes the BOLA check for the organization in the path.

mod http;
pub mod service;
pub mod sync;

pub use sync::SyncConsumer;

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    http::routes().merge(crate::http::probes::service_routes(super::ServiceName::Organizations))
}
