//! Auth service: sessions, organizations, API keys, JWT/JWKS and onboarding, Better Auth wire-compatible.
//!
//! Not built yet (the auth issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router() -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Auth)
}
