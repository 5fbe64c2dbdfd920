//! Auth service: sign-up and sign-in with email and password, sessions in an HttpOnly cookie,
//! organizations with members and invitations, API keys (secret and publishable), and
//! Ed25519-signed JWTs with a published JWKS — wire-compatible with Better Auth's REST API.
//!
//! `service.rs` decides, `http.rs` speaks Better Auth's shapes, `password.rs` bounds hashing,
//! `keys.rs` holds the signing keys, `tokens.rs` makes and digests secrets.

mod http;
pub mod keys;
pub mod onboarding;
pub mod password;
pub mod service;
pub mod tokens;

use axum::Router;

use crate::app::AppState;

pub(super) fn router(state: &AppState) -> Router<AppState> {
    http::routes(state).merge(crate::http::probes::service_routes(super::ServiceName::Auth))
}
