//! The gateway trust check: every service route requires `X-Internal-Key`.
//!
//! 503 when no key is configured (the service cannot tell the gateway from anyone else, so it
//! serves no one), 401 when the header is missing or wrong. Only a SHA-256 digest of the key is
//! held, and digests are compared in constant time, so neither timing nor length leaks the key.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use crow_core::ErrorCode;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiError;
use super::names::X_INTERNAL_KEY;

/// The configured internal key, as a digest.
#[derive(Clone)]
pub struct InternalKey(Option<[u8; 32]>);

impl std::fmt::Debug for InternalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "InternalKey([set])" } else { "InternalKey([unset])" })
    }
}

impl InternalKey {
    /// From configuration; `None` means service routes answer 503.
    pub fn new(key: Option<&SecretString>) -> Self {
        Self(key.map(|k| Sha256::digest(k.expose_secret().as_bytes()).into()))
    }

    /// Whether `presented` is the key, in constant time.
    pub fn matches(&self, presented: &[u8]) -> bool {
        match &self.0 {
            Some(expected) => {
                let got: [u8; 32] = Sha256::digest(presented).into();
                bool::from(got.ct_eq(expected))
            }
            None => false,
        }
    }

    /// Whether a key is configured.
    pub fn is_configured(&self) -> bool {
        self.0.is_some()
    }
}

/// Middleware guarding a service router.
pub async fn require(State(key): State<InternalKey>, request: Request, next: Next) -> Response {
    if !key.is_configured() {
        return ApiError::new(
            ErrorCode::ServiceUnavailable,
            "service unavailable: internal gateway key not configured",
        )
        .into_response();
    }
    match request.headers().get(X_INTERNAL_KEY) {
        Some(value) if key.matches(value.as_bytes()) => next.run(request).await,
        _ => ApiError::new(ErrorCode::InvalidInternalKey, "missing or invalid internal key").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_key() {
        let key = InternalKey::new(Some(&SecretString::from("k".repeat(40))));
        assert!(key.matches("k".repeat(40).as_bytes()));
        assert!(!key.matches("k".repeat(39).as_bytes()));
        assert!(!key.matches(b""));
        assert!(!InternalKey::new(None).matches(b""));
        assert!(!format!("{key:?}").contains('k'.to_string().repeat(3).as_str()));
    }
}
