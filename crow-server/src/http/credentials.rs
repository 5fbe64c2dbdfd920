//! Where an API key travels in a request: `X-API-Key: crow_…`, `Authorization: ApiKey crow_…`
//! or `Authorization: Bearer crow_…`. The gateway (to authenticate) and ingest (to tell a
//! publishable key from a secret one) read it through this one function, so they can never
//! disagree about whether a request carries a key.

use axum::http::{HeaderMap, header};

use crate::http::names::X_API_KEY;

/// The API key the request presents, if any.
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    match headers.get(X_API_KEY).and_then(|v| v.to_str().ok()) {
        Some(key) => Some(key.trim()),
        None => key_in_authorization(headers),
    }
}

/// An API key presented in `Authorization` (as `ApiKey crow_…` or `Bearer crow_…`).
pub fn key_in_authorization(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    let key = auth.strip_prefix("ApiKey ").or_else(|| auth.strip_prefix("Bearer "))?.trim();
    key.starts_with("crow_").then_some(key)
}
