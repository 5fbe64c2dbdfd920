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

use crow_core::api::auth::{
    AcceptedInvitation, ApiKeyList, CreateApiKey, CreatedApiKey, MemberList, MemberView, OrganizationWithMembers,
    SessionEnvelope, SignedIn, TokenResponse, Verification,
};
use crow_core::api::{Health, Ready};
use crow_core::domain::{
    AuthOrganization, Bucket, Count, CountBy, Interaction, InteractionQuery, Invitation, Onboarding, Organization,
    Page, User,
};
use crow_core::id::{ApiKeyId, InteractionId, InvitationId, OrganizationId, UserId};
use crow_core::tenancy::Role;
use crow_core::{ErrorBody, ErrorCode};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::json;

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
    session: Option<SecretString>,
    service_key: Option<SecretString>,
    origin: Option<String>,
    bearer: Option<SecretString>,
    extra_headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("internal_key", &self.internal_key.as_ref().map(|_| "[set]"))
            .field("api_key", &self.api_key.as_ref().map(|_| "[set]"))
            .field("session", &self.session.as_ref().map(|_| "[set]"))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `https://api.example.com`).
    pub fn new(base_url: &str) -> Result<Self> {
        let base = Url::parse(base_url).map_err(|e| Error::BaseUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::BaseUrl(format!("{base_url} is not an http(s) base URL")));
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
            session: None,
            service_key: None,
            origin: None,
            bearer: None,
            extra_headers: Vec::new(),
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

    /// Sends the session cookie (a browser-like client after sign-in).
    pub fn with_session(mut self, token: impl Into<String>) -> Self {
        self.session = Some(SecretString::from(token.into()));
        self
    }

    /// Sends `X-Service-API-Key` (services verifying API keys with the auth service).
    pub fn with_service_key(mut self, key: impl Into<String>) -> Self {
        self.service_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sends `Origin`, as a browser on that site would; cookie-carrying state changes need a
    /// trusted one.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sends `Authorization: Bearer <jwt>` (a token from [`Client::token`] or a system token).
    pub fn with_bearer(mut self, jwt: impl Into<String>) -> Self {
        self.bearer = Some(SecretString::from(jwt.into()));
        self
    }

    /// Sends an extra header on every request (e.g. `X-Request-Id`).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let url = self.base.join(path.trim_start_matches('/')).map_err(|e| Error::BaseUrl(e.to_string()))?;
        let mut req = self.http.request(method, url);
        if let Some(key) = &self.internal_key {
            req = req.header("x-internal-key", key.expose_secret());
        }
        if let Some(key) = &self.api_key {
            req = req.header("x-api-key", key.expose_secret());
        }
        if let Some(token) = &self.session {
            req = req.header("cookie", format!("better-auth.session_token={}", token.expose_secret()));
        }
        if let Some(key) = &self.service_key {
            req = req.header("x-service-api-key", key.expose_secret());
        }
        if let Some(origin) = &self.origin {
            req = req.header("origin", origin);
        }
        if let Some(jwt) = &self.bearer {
            req = req.header("authorization", format!("Bearer {}", jwt.expose_secret()));
        }
        for (name, value) in &self.extra_headers {
            req = req.header(name.as_str(), value.as_str());
        }
        Ok(req)
    }

    /// Sends a request and decodes a success body as `T`, or the error body.
    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let response = req.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| Error::Decode { status: status.as_u16(), reason: e.to_string() });
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
        self.send(self.request(Method::GET, &format!("/api/v1/{segment}/health"))?).await
    }

    /// `GET /api/v1/{segment}/ready` of one service.
    pub async fn service_ready(&self, segment: &str) -> Result<Ready> {
        self.send(self.request(Method::GET, &format!("/api/v1/{segment}/ready"))?).await
    }
}

/// The auth service (`/api/v1/auth/…`), Better Auth's routes.
impl Client {
    async fn auth_post<T: DeserializeOwned>(&self, route: &str, body: serde_json::Value) -> Result<T> {
        self.send(self.request(Method::POST, &format!("/api/v1/auth/{route}"))?.json(&body)).await
    }

    async fn auth_get<T: DeserializeOwned>(&self, route: &str) -> Result<T> {
        self.send(self.request(Method::GET, &format!("/api/v1/auth/{route}"))?).await
    }

    /// `POST sign-up/email`. Use the returned token with [`Client::with_session`].
    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> Result<SignedIn> {
        self.auth_post("sign-up/email", json!({ "name": name, "email": email, "password": password })).await
    }

    /// `POST sign-in/email`.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn> {
        self.auth_post("sign-in/email", json!({ "email": email, "password": password })).await
    }

    /// `POST sign-out`.
    pub async fn sign_out(&self) -> Result<()> {
        self.auth_post::<serde_json::Value>("sign-out", json!({})).await.map(|_| ())
    }

    /// `GET get-session`: `None` without a live session.
    pub async fn get_session(&self) -> Result<Option<SessionEnvelope>> {
        self.auth_get("get-session").await
    }

    /// `GET token`: a JWT for the session.
    pub async fn token(&self) -> Result<String> {
        self.auth_get::<TokenResponse>("token").await.map(|t| t.token)
    }

    /// `GET jwks`.
    pub async fn jwks(&self) -> Result<serde_json::Value> {
        self.auth_get("jwks").await
    }

    /// `POST organization/create`: the caller becomes owner and the organization active.
    pub async fn create_organization(&self, name: &str, slug: &str) -> Result<OrganizationWithMembers> {
        self.auth_post("organization/create", json!({ "name": name, "slug": slug })).await
    }

    /// `GET organization/list`.
    pub async fn list_organizations(&self) -> Result<Vec<AuthOrganization>> {
        self.auth_get("organization/list").await
    }

    /// `POST organization/set-active` (`None` clears it).
    pub async fn set_active_organization(&self, id: Option<OrganizationId>) -> Result<Option<OrganizationWithMembers>> {
        self.auth_post("organization/set-active", json!({ "organizationId": id })).await
    }

    /// `GET organization/list-members` of the active organization.
    pub async fn list_members(&self) -> Result<MemberList> {
        self.auth_get("organization/list-members").await
    }

    /// `POST organization/invite-member` to the active organization.
    pub async fn invite_member(&self, email: &str, role: Role) -> Result<Invitation> {
        self.auth_post("organization/invite-member", json!({ "email": email, "role": role })).await
    }

    /// `POST organization/accept-invitation`.
    pub async fn accept_invitation(&self, id: InvitationId) -> Result<AcceptedInvitation> {
        self.auth_post("organization/accept-invitation", json!({ "invitationId": id })).await
    }

    /// `POST organization/remove-member` from the active organization.
    pub async fn remove_member(&self, member_id_or_email: &str) -> Result<serde_json::Value> {
        self.auth_post("organization/remove-member", json!({ "memberIdOrEmail": member_id_or_email })).await
    }

    /// `POST api-key/create`: the full key is in the answer, once.
    pub async fn create_api_key(&self, request: &CreateApiKey) -> Result<CreatedApiKey> {
        let body = serde_json::to_value(request).map_err(|e| Error::Decode { status: 0, reason: e.to_string() })?;
        self.auth_post("api-key/create", body).await
    }

    /// `GET api-key/list`.
    pub async fn list_api_keys(&self) -> Result<ApiKeyList> {
        self.auth_get("api-key/list").await
    }

    /// `POST api-key/delete`.
    pub async fn delete_api_key(&self, id: ApiKeyId) -> Result<()> {
        self.auth_post::<serde_json::Value>("api-key/delete", json!({ "keyId": id })).await.map(|_| ())
    }

    /// `POST api-key/update`: enable or disable a key.
    pub async fn set_api_key_enabled(&self, id: ApiKeyId, enabled: bool) -> Result<()> {
        self.auth_post::<serde_json::Value>("api-key/update", json!({ "keyId": id, "enabled": enabled }))
            .await
            .map(|_| ())
    }

    /// `POST api-key/verify` (needs [`Client::with_service_key`]).
    pub async fn verify_api_key(&self, key: &str) -> Result<Verification> {
        self.auth_post("api-key/verify", json!({ "key": key })).await
    }

    /// `POST api-key/system-token` (needs [`Client::with_service_key`]).
    pub async fn system_token(&self, key: &str) -> Result<String> {
        self.auth_post::<TokenResponse>("api-key/system-token", json!({ "key": key })).await.map(|t| t.token)
    }

    /// `POST onboarding/start`: the caller's flow (created at step 1, or resumed).
    pub async fn start_onboarding(&self) -> Result<Onboarding> {
        self.auth_post("onboarding/start", json!({})).await
    }

    /// `GET onboarding`.
    pub async fn onboarding(&self) -> Result<Option<Onboarding>> {
        self.auth_get("onboarding").await
    }

    /// `POST onboarding/step` with `{ "step": "...", ...answer }`.
    pub async fn onboarding_step(&self, step: serde_json::Value) -> Result<Onboarding> {
        self.auth_post("onboarding/step", step).await
    }

    /// `GET team-invitations`: pending invitations of the active organization (admins).
    pub async fn team_invitations(&self) -> Result<Vec<Invitation>> {
        self.auth_get("team-invitations").await
    }

    /// `GET team-invitations/mine`: pending invitations addressed to the caller.
    pub async fn my_invitations(&self) -> Result<Vec<Invitation>> {
        self.auth_get("team-invitations/mine").await
    }

    /// `POST team-invitations/cancel`.
    pub async fn cancel_invitation(&self, id: InvitationId) -> Result<()> {
        self.auth_post::<serde_json::Value>("team-invitations/cancel", json!({ "invitationId": id })).await.map(|_| ())
    }

    /// Any request, for what the typed methods do not cover (and for testing bad input):
    /// returns the status, the `Set-Cookie` headers and the body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<RawResponse> {
        let mut req = self.request(method, path)?;
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let response = req.body(body).send().await?;
        let status = response.status().as_u16();
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
            .collect();
        let body = response.bytes().await?.to_vec();
        Ok(RawResponse { status, set_cookies, retry_after, headers, body })
    }
}

/// The organizations service (`/api/v1/organizations/…`).
impl Client {
    /// `GET /{id}`.
    pub async fn organization(&self, id: OrganizationId) -> Result<Organization> {
        self.send(self.request(Method::GET, &format!("/api/v1/organizations/{id}"))?).await
    }

    /// `PATCH /{id}` with the fields to change (`name`, `logo`, `metadata`, `allowedOrigins`).
    pub async fn update_organization(&self, id: OrganizationId, patch: serde_json::Value) -> Result<Organization> {
        self.send(self.request(Method::PATCH, &format!("/api/v1/organizations/{id}"))?.json(&patch)).await
    }

    /// `DELETE /{id}` (owners): deletes the organization and all its data.
    pub async fn delete_organization(&self, id: OrganizationId) -> Result<()> {
        let request = self.request(Method::DELETE, &format!("/api/v1/organizations/{id}"))?;
        self.send::<serde_json::Value>(request).await.map(|_| ())
    }

    /// `GET /{id}/members`.
    pub async fn organization_members(&self, id: OrganizationId) -> Result<Vec<MemberView>> {
        self.send(self.request(Method::GET, &format!("/api/v1/organizations/{id}/members"))?).await
    }

    /// `POST /{id}/context`: (re)builds the organization's AI context.
    pub async fn build_organization_context(&self, id: OrganizationId) -> Result<Organization> {
        self.send(self.request(Method::POST, &format!("/api/v1/organizations/{id}/context"))?).await
    }

    /// `GET /by-auth-id/{id}`: the internal id of an auth organization.
    pub async fn organization_by_auth_id(&self, auth_id: &str) -> Result<OrganizationId> {
        #[derive(serde::Deserialize)]
        struct Found {
            id: OrganizationId,
        }
        let request = self.request(Method::GET, &format!("/api/v1/organizations/by-auth-id/{auth_id}"))?;
        self.send::<Found>(request).await.map(|f| f.id)
    }
}

/// The interaction service (`/api/v1/interactions/…`), BOLA-checked: a caller sees its own
/// organization's interactions only.
impl Client {
    /// `GET /`: one page of interactions matching `query`, newest first; pass the page's
    /// `next_cursor` back as `query.cursor` for the next.
    pub async fn interactions(&self, query: &InteractionQuery) -> Result<Page<Interaction>> {
        self.send(self.request(Method::GET, &self.with_query("api/v1/interactions", &query_pairs(query))?)?).await
    }

    /// `GET /{id}`.
    pub async fn interaction(&self, id: InteractionId) -> Result<Interaction> {
        self.send(self.request(Method::GET, &format!("/api/v1/interactions/{id}"))?).await
    }

    /// `GET /counts`: interactions matching `query` counted by kind or product, in total or per
    /// time bucket.
    pub async fn interaction_counts(
        &self,
        query: &InteractionQuery,
        by: CountBy,
        bucket: Option<Bucket>,
    ) -> Result<Vec<Count>> {
        #[derive(serde::Deserialize)]
        struct Counts {
            counts: Vec<Count>,
        }
        let mut pairs = query_pairs(query);
        pairs.push(("by", by.as_str().to_owned()));
        if let Some(b) = bucket {
            pairs.push(("bucket", b.as_str().to_owned()));
        }
        let request = self.request(Method::GET, &self.with_query("api/v1/interactions/counts", &pairs)?)?;
        self.send::<Counts>(request).await.map(|c| c.counts)
    }

    /// `path` with `pairs` as its query string, percent-encoded.
    fn with_query(&self, path: &str, pairs: &[(&str, String)]) -> Result<String> {
        let mut url = self.base.join(path).map_err(|e| Error::BaseUrl(e.to_string()))?;
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }
}

/// An `InteractionQuery` as the query string the service reads.
fn query_pairs(q: &InteractionQuery) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    let mut add = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            pairs.push((k, v));
        }
    };
    add("since", q.since.map(|t| t.as_millis().to_string()));
    add("until", q.until.map(|t| t.as_millis().to_string()));
    add("channel", q.channel.map(|c| c.as_str().to_owned()));
    add("kind", q.kind.map(|k| k.as_str().to_owned()));
    add("sessionId", q.session_id.clone());
    add("product", q.product.clone());
    add("limit", q.limit.map(|l| l.to_string()));
    add("cursor", q.cursor.clone());
    pairs
}

/// The users service (`/api/v1/users/…`).
impl Client {
    /// `GET /me`.
    pub async fn me(&self) -> Result<User> {
        self.send(self.request(Method::GET, "/api/v1/users/me")?).await
    }

    /// `GET /{id}` (members of the caller's organization only).
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.send(self.request(Method::GET, &format!("/api/v1/users/{id}"))?).await
    }

    /// `GET /?q=`: members of the caller's organization matching `q`.
    pub async fn search_users(&self, q: &str) -> Result<Vec<User>> {
        let mut url = self.base.join("api/v1/users").map_err(|e| Error::BaseUrl(e.to_string()))?;
        url.query_pairs_mut().append_pair("q", q);
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        self.send(self.request(Method::GET, &path)?).await
    }

    /// `PATCH /{id}`: renames the caller.
    pub async fn rename_user(&self, id: UserId, name: &str) -> Result<User> {
        self.send(self.request(Method::PATCH, &format!("/api/v1/users/{id}"))?.json(&json!({ "name": name }))).await
    }

    /// `DELETE /{id}`: deletes the caller's own account.
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        self.send::<serde_json::Value>(self.request(Method::DELETE, &format!("/api/v1/users/{id}"))?).await.map(|_| ())
    }

    /// `PUT /{id}/picture` (PNG, JPEG, GIF or WebP; ≤ 2 MiB).
    pub async fn set_user_picture(&self, id: UserId, image: Vec<u8>) -> Result<User> {
        self.send(self.request(Method::PUT, &format!("/api/v1/users/{id}/picture"))?.body(image)).await
    }

    /// `GET /{id}/picture`: the bytes.
    pub async fn user_picture(&self, id: UserId) -> Result<Vec<u8>> {
        let response = self.request(Method::GET, &format!("/api/v1/users/{id}/picture"))?.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() { Ok(bytes.to_vec()) } else { Err(api_error(status, &bytes)) }
    }

    /// `GET /{id}/permissions`: `{ role, permissions }`.
    pub async fn user_permissions(&self, id: UserId) -> Result<serde_json::Value> {
        self.send(self.request(Method::GET, &format!("/api/v1/users/{id}/permissions"))?).await
    }
}

/// An undecoded answer.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// `Set-Cookie` header values.
    pub set_cookies: Vec<String>,
    /// `Retry-After`, if sent.
    pub retry_after: Option<String>,
    /// Every header (lower-case names), in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as an error body, if it is one.
    pub fn error(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub use reqwest::Method as HttpMethod;

fn api_error(status: StatusCode, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::Api { status: status.as_u16(), body },
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
        let c = Client::new("http://127.0.0.1:1").unwrap().with_api_key("crow_secret_value");
        assert!(!format!("{c:?}").contains("crow_secret_value"));
    }

    #[test]
    fn error_bodies_become_api_errors() {
        let e = api_error(StatusCode::FORBIDDEN, br#"{"message":"no","code":"FORBIDDEN"}"#);
        assert_eq!(e.code(), Some(ErrorCode::Forbidden));
        assert_eq!(e.status(), Some(403));
        let e = api_error(StatusCode::BAD_GATEWAY, b"<html>");
        assert!(matches!(e, Error::Decode { status: 502, .. }));
    }
}
