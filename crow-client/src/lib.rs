//! Typed async client for the CROW API (`cargo add crow-client`).
//!
//! It speaks the same wire types as the server (from `crow-core`), so a request or response
//! shape cannot drift between them. Every failure answer of the server arrives as
//! [`Error::Api`] with the status and the `{ message, code }` body. The client grows with each
//! service.
//!
//! ```no_run
//! # async fn demo() -> Result<(), crow_client::Error> {
//! let client = crow_client::Client::new("http://127.0.0.1:8080")?;
//! let health = client.health().await?;
//! assert_eq!(health.status, "ok");
//! # Ok(()) }
//! ```

use std::time::Duration;

use crow_core::api::{Health, Ready};
use crow_core::{ErrorBody, ErrorCode};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL is not a valid http(s) URL.
    #[error("invalid base URL: {0}")]
    BaseUrl(String),
    /// The server answered with an error body.
    #[error("{status} {}: {}", body.code, body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body.
        body: ErrorBody,
    },
    /// The server answered, but not with the expected JSON.
    #[error("unexpected response ({status}): {reason}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What did not parse.
        reason: String,
    },
    /// The request did not complete (connection, timeout, TLS).
    #[error("transport error")]
    Transport(#[from] reqwest::Error),
}

impl Error {
    /// The error code, for an API error this build knows.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { body, .. } => body.known_code(),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A CROW API client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    internal_key: Option<SecretString>,
    api_key: Option<SecretString>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("internal_key", &self.internal_key.as_ref().map(|_| "[set]"))
            .field("api_key", &self.api_key.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `https://api.example.com`).
    pub fn new(base_url: &str) -> Result<Self> {
        let base = Url::parse(base_url).map_err(|e| Error::BaseUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::BaseUrl(format!(
                "{base_url} is not an http(s) base URL"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("crow-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base,
            internal_key: None,
            api_key: None,
        })
    }

    /// Sends `X-Internal-Key` (service-to-service calls behind the gateway).
    pub fn with_internal_key(mut self, key: impl Into<String>) -> Self {
        self.internal_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sends `X-API-Key` (integrations).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::BaseUrl(e.to_string()))?;
        let mut req = self.http.request(method, url);
        if let Some(key) = &self.internal_key {
            req = req.header("x-internal-key", key.expose_secret());
        }
        if let Some(key) = &self.api_key {
            req = req.header("x-api-key", key.expose_secret());
        }
        Ok(req)
    }

    /// Sends a request and decodes a success body as `T`, or the error body.
    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let response = req.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                status: status.as_u16(),
                reason: e.to_string(),
            });
        }
        Err(api_error(status, &bytes))
    }

    /// `GET /health`: the process is up.
    pub async fn health(&self) -> Result<Health> {
        self.send(self.request(Method::GET, "/health")?).await
    }

    /// `GET /ready`: whether the server can serve, with each check. A not-ready server answers
    /// 503 with the same body, which is returned as `Ok` so callers see which check failed.
    pub async fn ready(&self) -> Result<Ready> {
        let response = self.request(Method::GET, "/ready")?.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if (status.is_success() || status == StatusCode::SERVICE_UNAVAILABLE)
            && let Ok(ready) = serde_json::from_slice(&bytes)
        {
            return Ok(ready);
        }
        Err(api_error(status, &bytes))
    }

    /// `GET /api/v1/{segment}/health` of one service (needs the internal key unless called
    /// through the gateway).
    pub async fn service_health(&self, segment: &str) -> Result<Health> {
        self.send(self.request(Method::GET, &format!("/api/v1/{segment}/health"))?)
            .await
    }

    /// `GET /api/v1/{segment}/ready` of one service.
    pub async fn service_ready(&self, segment: &str) -> Result<Ready> {
        self.send(self.request(Method::GET, &format!("/api/v1/{segment}/ready"))?)
            .await
    }
}

fn api_error(status: StatusCode, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::Api {
            status: status.as_u16(),
            body,
        },
        Err(_) => Error::Decode {
            status: status.as_u16(),
            reason: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_base_urls() {
        assert!(Client::new("ftp://x").is_err());
        assert!(Client::new("not a url").is_err());
        assert!(Client::new("http://127.0.0.1:8080").is_ok());
    }

    #[test]
    fn debug_hides_keys() {
        let c = Client::new("http://127.0.0.1:1")
            .unwrap()
            .with_api_key("crow_secret_value");
        assert!(!format!("{c:?}").contains("crow_secret_value"));
    }

    #[test]
    fn error_bodies_become_api_errors() {
        let e = api_error(
            StatusCode::FORBIDDEN,
            br#"{"message":"no","code":"FORBIDDEN"}"#,
        );
        assert_eq!(e.code(), Some(ErrorCode::Forbidden));
        assert_eq!(e.status(), Some(403));
        let e = api_error(StatusCode::BAD_GATEWAY, b"<html>");
        assert!(matches!(e, Error::Decode { status: 502, .. }));
    }
}
