//! Organizations service: organization records, members, `by-auth-id`, AI context.
//!
//! Not built yet (the auth issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router() -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Organizations)
}
