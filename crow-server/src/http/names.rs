//! Header names of CROW's own contract — between clients, the gateway and the services — that
//! the `http` crate's table lacks. One definition each, so the side that sets a header and the
//! side that strips or checks it cannot spell it differently; `fields` keeps them in its
//! table of common names.

use axum::http::HeaderName;

/// An API key (`crow_sk_…`, `crow_pk_…`) presented by a client.
pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
/// The key services accept from the gateway (and from each other).
pub const X_INTERNAL_KEY: HeaderName = HeaderName::from_static("x-internal-key");
/// The key internal auth routes require.
pub const X_SERVICE_API_KEY: HeaderName = HeaderName::from_static("x-service-api-key");
/// The verified organization, set by the gateway only.
pub const X_ORGANIZATION_ID: HeaderName = HeaderName::from_static("x-organization-id");
/// The verified user, set by the gateway only.
pub const X_USER_ID: HeaderName = HeaderName::from_static("x-user-id");
/// Correlates a request's log lines across processes.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A framework banner services may send; never passed to clients.
pub const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");
