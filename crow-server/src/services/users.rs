//! Users service: user records, profile pictures, search, permissions, `by-auth-id`.
//!
//! Not built yet (the auth issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Users)
}
