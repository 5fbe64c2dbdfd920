//! The error every handler returns, rendered as `{ "message", "code" }` with the code's status.
//!
//! Internal failures are logged here, once, with their cause chain, and answered with a generic
//! message: callers never see SQL, paths or backend names.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crow_core::ports::store::StoreError;
use crow_core::{ErrorBody, ErrorCode, TenancyError};

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with a code and a message safe to show the caller.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    /// Adds a `Retry-After` header (429, 503).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// An unexpected failure: logged with its cause chain, answered generically.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %chain(error), "{context}");
        Self::new(ErrorCode::InternalError, "internal error")
    }

    /// A raw body that could not be read: 413 with the route's own limit message when it was
    /// too large, 400 otherwise.
    pub fn from_body(rejection: &axum::extract::rejection::BytesRejection, too_large: impl Into<String>) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(ErrorCode::PayloadTooLarge, too_large)
        } else {
            Self::new(ErrorCode::BadRequest, "cannot read the request body")
        }
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

/// `error: cause: cause` on one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(ErrorBody::new(self.code, self.message))).into_response();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs_f64().ceil().max(1.0).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<TenancyError> for ApiError {
    fn from(e: TenancyError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(ErrorCode::NotFound, "not found"),
            StoreError::Conflict(what) => Self::new(ErrorCode::Conflict, what),
            StoreError::Invalid(what) => Self::new(ErrorCode::ValidationFailed, what),
            StoreError::Backend(_) => Self::internal("storage failed", &e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => {
                Self::new(ErrorCode::UnsupportedMediaType, "expected Content-Type: application/json")
            }
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(ErrorCode::PayloadTooLarge, "request body is too large")
            }
            // Well-formed JSON of the wrong shape: the values break the route's rules.
            JsonRejection::JsonDataError(e) => Self::new(ErrorCode::ValidationFailed, e.body_text()),
            other => Self::new(ErrorCode::InvalidJson, other.body_text()),
        }
    }
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_code_status_and_retry_after() {
        let response =
            ApiError::new(ErrorCode::RateLimited, "slow down").retry_after(Duration::from_millis(1500)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, ErrorBody::new(ErrorCode::RateLimited, "slow down"));
    }

    #[test]
    fn backend_failures_are_not_leaked() {
        let e = ApiError::from(StoreError::Backend("disk on fire at /var/secret".into()));
        assert_eq!(e.code(), ErrorCode::InternalError);
        assert!(!e.message.contains("/var/secret"));
    }
}
