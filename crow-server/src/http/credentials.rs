//! Where an API key travels in a request: `X-API-Key: crow_…`, `Authorization: ApiKey crow_…`
//! or `Authorization: Bearer crow_…`. The gateway (to authenticate) and ingest (to tell a
//! publishable key from a secret one) read it through this one function, so they can never
//! disagree about whether a request carries a key.

use axum::http::{HeaderMap, header};

/// The API key the request presents, if any.
pub fn api_key(headers: &HeaderMap) -> Option<String> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim().to_owned());
    }
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    let key = auth.strip_prefix("ApiKey ").or_else(|| auth.strip_prefix("Bearer "))?.trim();
    key.starts_with("crow_").then(|| key.to_owned())
}
