//! Users service: user records as seen inside an organization — the caller's own profile,
//! search among the organization's members, role-derived permissions, profile pictures in the
//! object store (type and size checked), and `by-auth-id` for the gateway's API-key path.
//!
//! The auth service's user table is the single source of truth in one process; this service
//! reads and updates it through the auth store port rather than keeping a second copy.

mod http;
pub mod service;

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    http::routes().merge(crate::http::probes::service_routes(super::ServiceName::Users))
}
