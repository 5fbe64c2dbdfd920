//! The API gateway: the one public entry point. Every `/api/v{n}/{segment}/…` request runs the
//! pipeline in this order: request id, access span and security headers (the edge,
//! [`crate::http::edge`]) → CORS → rate limit → authentication → organization resolution →
//! cache → forward, then the response is cleaned (upstream CORS, `Server`, internal headers and —
//! except from auth — `Set-Cookie` removed) before the gateway's own CORS headers are set.
//!
//! In the one-process deployment the gateway calls the service routers in-process (no loopback
//! HTTP). CORS reflects an `Origin` only when it is trusted (exact origins, anchored
//! `https://*.domain` patterns, localhost in `local`); `null` never matches; `Vary: Origin` is
//! always sent; `*` is never used.
//!
//! Successful GET answers of services that opt in are cached per organization
//! (`cache:{org}:{service}:v1:{path}:{sorted query}`); a write through the gateway to a service
//! drops that organization's entries for it. Answers marked `Cache-Control: private` or
//! `no-store`, errors, and other methods are never cached.
//!
//! In split deployments (`--services` on several processes, `CROW_SERVICE_URLS` on the gateway)
//! services hosted elsewhere are reached over HTTP with pooled connections, streamed bodies, the
//! same header contract and the same timeout (502 when the service cannot be reached, 504 when
//! it is too slow).
//!
//! Services listed in `gateway_anonymous_services` accept callers without credentials: they get
//! an anonymous session JWT (`sub` = `anon:…`, no organization), one per client address (IPv6
//! per /64) reused for an hour. A caller who presents credentials that fail is still refused.

pub mod client_ip;
mod forwarded;
pub(crate) mod upstream;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use crow_core::api::auth::Verification;
use crow_core::domain::ApiKeyKind;
use crow_core::ports::auth::TokenHash;
use crow_core::{ErrorCode, OrganizationId};
use secrecy::{ExposeSecret, SecretString};
use tower::ServiceExt as _;

use crate::app::AppState;
use crate::config::GatewayConfig;
use crate::http::ApiError;
use crate::http::credentials::{api_key, key_in_authorization};
use crate::http::hop::{HopByHop, remove_where};
use crate::http::names::{X_API_KEY, X_INTERNAL_KEY, X_ORGANIZATION_ID, X_POWERED_BY, X_SERVICE_API_KEY, X_USER_ID};
use crate::http::rate_limit::{ClientKey, RateLimiter};
use crate::memo::Memo;
use crate::services::ServiceName;
use crate::services::auth::tokens;
use forwarded::{Edits, Identity, InternalKey};
use upstream::{Rewrite, Upstream, UpstreamError};

/// How long a verified session or API key is reused before asking the auth service again.
const IDENTITY_TTL: Duration = Duration::from_secs(30);
/// Identities cached at most.
const IDENTITY_CACHE: usize = 100_000;
/// How long one client address keeps its anonymous session.
const ANONYMOUS_TTL: Duration = Duration::from_secs(60 * 60);

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "Content-Type, Authorization, X-Requested-With, X-API-Key, X-Request-Id";
const EXPOSE_HEADERS: &str = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset";

/// Response headers never passed back to clients.
static STRIP_RESPONSE: [HeaderName; 4] = [header::SERVER, X_POWERED_BY, X_INTERNAL_KEY, X_SERVICE_API_KEY];

/// The gateway.
pub struct Gateway {
    state: AppState,
    internal: Router,
    /// Services this process hosts (called in-process).
    local: Vec<ServiceName>,
    /// Services hosted elsewhere (a handful: a scan beats hashing the name on every request).
    remote: Vec<(ServiceName, Upstream)>,
    /// `X-Internal-Key` as sent to services.
    internal_key: Option<InternalKey>,
    /// Digest of `internal_key`, for the constant-time check of a presented key.
    internal_key_check: crate::http::internal_key::InternalKey,
    config: GatewayConfig,
    limiter: RateLimiter,
    auth_limiter: RateLimiter,
    identities: Memo<TokenHash, Arc<Identity>>,
    /// Anonymous sessions by client address.
    anonymous: Memo<ClientKey, Arc<Identity>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Where a request goes and how it is treated. Service routers know the same paths as the
/// gateway (`/api/v1/{segment}/…`), so the request's target is passed on unchanged.
struct Route<'a> {
    service: ServiceName,
    /// After the segment, e.g. `/health`.
    rest: &'a str,
}

fn parse_route(path: &str) -> Option<Route<'_>> {
    // Only v1 exists.
    let rest = path.strip_prefix("/api/v1/")?;
    // A byte scan: `str::find` with a `char` pattern costs more than this whole function.
    let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
    let (segment, tail) = rest.split_at(end);
    let service = ServiceName::from_segment(segment)?;
    Some(Route { service, rest: tail })
}

/// Routes that skip authentication even on services that require it.
fn is_public(route: &Route<'_>, method: &Method) -> bool {
    let probe = method == Method::GET && (route.rest == "/health" || route.rest == "/ready");
    let webhook = method == Method::POST && route.service == ServiceName::Billing && route.rest == "/webhook";
    let images = route.service == ServiceName::Products && route.rest.starts_with("/images/");
    probe || webhook || images
}

fn bearer_jwt(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    auth.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.starts_with("crow_") && t.matches('.').count() == 2)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

impl Gateway {
    /// A gateway in front of `internal` (the routers of the `local` services) and the remote
    /// services of `config.service_urls`.
    pub fn new(
        state: AppState,
        internal: Router,
        local: Vec<ServiceName>,
        internal_key: Option<SecretString>,
        config: GatewayConfig,
    ) -> Self {
        let remote = config
            .service_urls
            .iter()
            .filter_map(|(service, base)| match Upstream::parse(base) {
                Some(upstream) => Some((*service, upstream)),
                None => {
                    // Configuration checks every URL; this is only reached by hand-built configs.
                    tracing::error!(service = service.as_str(), "service URL unusable; the service answers 503");
                    None
                }
            })
            .collect();
        Self {
            local,
            remote,
            limiter: RateLimiter::new(config.rate_per_minute, Duration::from_secs(60), config.rate_burst, 200_000),
            auth_limiter: RateLimiter::new(
                config.auth_rate_per_minute,
                Duration::from_secs(60),
                config.auth_rate_burst,
                200_000,
            ),
            state,
            internal,
            internal_key_check: crate::http::internal_key::InternalKey::new(internal_key.as_ref()),
            internal_key: internal_key.as_ref().and_then(|k| InternalKey::new(k.expose_secret())),
            config,
            identities: Memo::new(IDENTITY_TTL, IDENTITY_CACHE),
            anonymous: Memo::new(ANONYMOUS_TTL, IDENTITY_CACHE),
        }
    }

    fn internal_key_matches(&self, headers: &HeaderMap) -> bool {
        headers.get(X_INTERNAL_KEY).is_some_and(|presented| self.internal_key_check.matches(presented.as_bytes()))
    }

    fn cached(&self, key: &TokenHash) -> Option<Arc<Identity>> {
        self.identities.get(key)
    }

    fn remember(&self, key: TokenHash, identity: &Arc<Identity>) {
        self.identities.insert(key, Arc::clone(identity));
    }

    fn forget(&self, key: &TokenHash) {
        self.identities.remove(key);
    }

    /// The internal organization behind a verified auth organization (the `by-auth-id` step).
    async fn resolve(&self, auth_org: Option<OrganizationId>) -> Result<Option<OrganizationId>, ApiError> {
        let Some(org) = auth_org else { return Ok(None) };
        match self.state.backends().organizations.resolve_auth_id(&org.to_string()).await {
            Ok(id) => Ok(Some(id)),
            // Created a moment ago; the sync consumer has not run yet.
            Err(crow_core::ports::store::StoreError::NotFound) => Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "the organization is still being set up; retry shortly",
            )
            .retry_after(Duration::from_secs(1))),
            Err(e) => Err(e.into()),
        }
    }

    // The identity lookups below answer from the cache on the hot path; what runs on a miss
    // (store queries, token signing) is boxed, because an async function's state is as large as
    // its largest path and every request's future would otherwise carry — and copy — the
    // verification's state.

    async fn session_identity(&self, token: &str) -> Result<Arc<Identity>, ApiError> {
        let key = tokens::digest(token);
        match self.cached(&key) {
            Some(id) => Ok(id),
            None => Box::pin(self.verify_session(token, key)).await,
        }
    }

    async fn verify_session(&self, token: &str, key: TokenHash) -> Result<Arc<Identity>, ApiError> {
        let auth = self.state.auth();
        let session = auth.authenticate(token).await?.ok_or_else(|| unauthorized("session expired or invalid"))?;
        let jwt = auth.token(&session).await?;
        let organization = self.resolve(session.session.active_organization_id).await?;
        let identity = Arc::new(Identity::new(Some(session.user.id), organization, Some(&jwt), false)?);
        self.remember(key, &identity);
        Ok(identity)
    }

    async fn key_identity(&self, key: &str) -> Result<Arc<Identity>, ApiError> {
        let digest = tokens::digest(key);
        match self.cached(&digest) {
            Some(id) => Ok(id),
            None => Box::pin(self.verify_key(key, digest)).await,
        }
    }

    async fn verify_key(&self, key: &str, digest: TokenHash) -> Result<Arc<Identity>, ApiError> {
        let auth = self.state.auth();
        let v: Verification = auth.verify_api_key(key).await?;
        if !v.valid {
            return Err(match v.error.as_deref() {
                Some("RATE_LIMITED") => ApiError::new(ErrorCode::RateLimited, "API key rate limit reached")
                    .retry_after(Duration::from_millis(v.try_again_in.unwrap_or(1000).max(1).unsigned_abs())),
                Some(reason) => unauthorized(&format!("API key refused: {reason}")),
                None => unauthorized("API key refused"),
            });
        }
        let publishable = v.kind == Some(ApiKeyKind::Publishable);
        let jwt = if publishable { None } else { Some(auth.token_for_verification(&v).await?) };
        let organization = self.resolve(v.organization_id).await?;
        let identity = Arc::new(Identity::new(v.user_id, organization, jwt.as_deref(), publishable)?);
        // Metered keys are verified on every request so their counters stay exact.
        if v.remaining.is_none() && !v.rate_limit_enabled {
            self.remember(digest, &identity);
        }
        Ok(identity)
    }

    async fn jwt_identity(&self, jwt: &str) -> Result<Arc<Identity>, ApiError> {
        let claims = self
            .state
            .verifier()
            .verify(jwt, self.state.backends().clock.now())
            .await
            .map_err(|_| unauthorized("invalid or expired token"))?;
        let org = claims.organization_id.as_deref().and_then(|o| o.parse().ok());
        let organization = self.resolve(org).await?;
        Ok(Arc::new(Identity::new(claims.sub.parse().ok(), organization, Some(jwt), false)?))
    }

    /// An anonymous caller of a service that accepts them: one anonymous session per client
    /// address, reused for an hour (the token outlives the reuse, see `ANONYMOUS_TOKEN_LIFETIME`).
    async fn anonymous_identity(&self, ip: IpAddr) -> Result<Arc<Identity>, ApiError> {
        let key = ClientKey::from(ip);
        if let Some(identity) = self.anonymous.get(&key) {
            return Ok(identity);
        }
        let jwt = Box::pin(self.state.auth().anonymous_token()).await?;
        let identity = Arc::new(Identity::new(None, None, Some(&jwt), false)?);
        self.anonymous.insert(key, Arc::clone(&identity));
        Ok(identity)
    }

    /// Authentication: API key, session cookie, or a JWT the client already holds; `None` when
    /// the request carries no credentials at all.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Arc<Identity>>, ApiError> {
        if let Some(key) = api_key(headers) {
            return self.key_identity(key).await.map(Some);
        }
        if let Some(token) =
            tokens::session_from_cookies(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()))
        {
            return self.session_identity(&token).await.map(Some);
        }
        if let Some(jwt) = bearer_jwt(headers) {
            // Verified on every request (no cache), and boxed like the cache misses above.
            return Box::pin(self.jwt_identity(jwt)).await.map(Some);
        }
        Ok(None)
    }

    /// Runs the pipeline after CORS preflight handling, for the route `handle` parsed.
    async fn pipeline(
        &self,
        peer: SocketAddr,
        mut request: Request,
        route: Option<Route<'_>>,
    ) -> Result<Response, ApiError> {
        let ip =
            client_ip::client_ip(peer, request.headers(), &self.config.client_ip_header, &self.config.trusted_proxies);
        let route = route.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such route"))?;
        if self.local.contains(&route.service) {
            // In-process services see the peer as if it had connected to them (auth limits by it).
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let is_auth = route.service == ServiceName::Auth;
        let (limiter, per_minute) = if is_auth {
            (&self.auth_limiter, self.config.auth_rate_per_minute)
        } else {
            (&self.limiter, self.config.rate_per_minute)
        };
        if let Err(wait) = limiter.check(ip, self.state.backends().clock.now().as_millis()) {
            let mut response =
                ApiError::new(ErrorCode::RateLimited, "too many requests").retry_after(wait).into_response();
            let h = response.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(per_minute));
            h.insert("ratelimit-remaining", HeaderValue::from(0));
            h.insert("ratelimit-reset", HeaderValue::from(wait.as_secs().max(1)));
            return Ok(response);
        }
        if is_auth {
            return self.forward_auth(request, &route).await;
        }
        if self.internal_key_matches(request.headers()) {
            // A CROW service calling another: trusted as it is (its headers included).
            return self.forward(request, &route, None, true).await;
        }
        if is_public(&route, request.method()) {
            return self.forward(request, &route, None, false).await;
        }
        let identity = match self.authenticate(request.headers()).await? {
            Some(identity) => identity,
            None if self.config.anonymous_services.contains(&route.service) => self.anonymous_identity(ip).await?,
            None => return Err(unauthorized("authentication required: a session, an API key or a token")),
        };
        if identity.publishable && route.service != ServiceName::Ingest {
            return Err(ApiError::new(ErrorCode::Forbidden, "publishable keys may only send tracker events"));
        }
        self.forward(request, &route, Some(&identity), false).await
    }

    /// Auth routes go straight to the auth service (no auth or organization step); its cookies
    /// pass. Session-changing routes drop the session's cached identity.
    async fn forward_auth(&self, request: Request, route: &Route<'_>) -> Result<Response, ApiError> {
        let session = tokens::session_from_cookies(
            request.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()),
        );
        let changes_session = [
            "/sign-out",
            "/organization/set-active",
            "/organization/create",
            "/organization/accept-invitation",
            "/organization/remove-member",
        ]
        .contains(&route.rest);
        let strip = stripped(request.headers(), true, |_| false);
        let edits = Edits { strip: &strip, internal_key: None, identity: None };
        let response = self.call(request, route, edits).await?;
        if changes_session && let Some(token) = session {
            self.forget(&tokens::digest(&token));
        }
        Ok(response)
    }

    async fn forward(
        &self,
        request: Request,
        route: &Route<'_>,
        identity: Option<&Identity>,
        trusted: bool,
    ) -> Result<Response, ApiError> {
        let headers = request.headers();
        let to_ingest = route.service == ServiceName::Ingest;
        // A `crow_` key is not a JWT; only ingest takes one as a bearer credential.
        let key_as_bearer = !to_ingest && key_in_authorization(headers).is_some();
        // The verified caller's token replaces whatever the client sent as `Authorization`.
        let replaced_authorization = identity.is_some_and(Identity::authorizes);
        let strip = stripped(headers, false, |name| {
            // Whatever the client sent as tenant or user — any casing, any number of copies.
            (!trusted && (name == X_ORGANIZATION_ID || name == X_USER_ID))
                || (!to_ingest && name == X_API_KEY)
                || ((key_as_bearer || replaced_authorization) && name == header::AUTHORIZATION)
        });
        let edits = Edits { strip: &strip, internal_key: self.internal_key.as_ref(), identity };
        let Some(ttl) = route.service.gateway_cache_ttl() else {
            // A service without cached answers: nothing to look up, store or invalidate.
            return self.call(request, route, edits).await;
        };
        // The verified organization, or a trusted service's own header; never what another
        // caller sent (the map still holds it: it is stripped as the request is passed on).
        let org = match identity {
            Some(identity) => identity.organization().and_then(|v| v.to_str().ok()).map(str::to_owned),
            None if trusted => org_of(request.headers()),
            None => None,
        };
        let cache_key = cache_key(request.method(), request.uri(), route, org.as_deref());
        if let Some(key) = &cache_key
            && let Ok(Some(hit)) = self.state.backends().cache.get(key).await
            && let Some(response) = decode_cached(&hit)
        {
            return Ok(response);
        }
        let write = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let response = self.call(request, route, edits).await?;
        if write && let Some(org) = org {
            // Writes invalidate the organization's cached answers of this service.
            let _ =
                self.state.backends().cache.delete_prefix(&format!("cache:{org}:{}:", route.service.as_str())).await;
        }
        match cache_key {
            Some(key) if cacheable(&response) => Box::pin(self.store_cached(key, ttl, response)).await,
            _ => Ok(response),
        }
    }

    async fn store_cached(&self, key: String, ttl: Duration, response: Response) -> Result<Response, ApiError> {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, CACHE_MAX_BYTES).await;
        let Ok(bytes) = bytes else {
            return Err(ApiError::new(ErrorCode::BadGateway, "upstream answer unreadable or too large"));
        };
        let content_type =
            parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
        let mut entry = Vec::with_capacity(content_type.len() + 1 + bytes.len());
        entry.extend_from_slice(content_type.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(&bytes);
        let _ = self.state.backends().cache.set(&key, bytes::Bytes::from(entry), ttl).await;
        let mut response = Response::from_parts(parts, axum::body::Body::from(bytes));
        response.headers_mut().insert("x-cache", HeaderValue::from_static("miss"));
        Ok(response)
    }

    /// Calls the service — its router in-process, or its process over HTTP — bounded by the
    /// upstream timeout; what comes back loses the headers clients never see: internal ones,
    /// `Server`, CORS headers (the gateway sets its own), hop-by-hop ones and, from every
    /// service but auth, `Set-Cookie`.
    async fn call(&self, mut request: Request, route: &Route<'_>, edits: Edits<'_>) -> Result<Response, ApiError> {
        let service = route.service.as_str();
        let keep_cookies = route.service == ServiceName::Auth;
        let response = if self.local.contains(&route.service) {
            edits.apply_to(request.headers_mut());
            let mut response = self.call_local(request, service).await?;
            clean_response(response.headers_mut(), keep_cookies);
            response
        } else {
            match self.remote.iter().find(|(s, _)| *s == route.service) {
                // The answer is cleaned as its head is read.
                Some((_, upstream)) => self.call_remote(upstream, request, edits, keep_cookies, service).await?,
                None => {
                    return Err(ApiError::new(
                        ErrorCode::ServiceUnavailable,
                        format!("the {service} service is not deployed"),
                    ));
                }
            }
        };
        Ok(response)
    }

    /// Calls a service router of this process.
    async fn call_local(&self, mut request: Request, service: &str) -> Result<Response, ApiError> {
        if request.uri().authority().is_some() {
            // An absolute-form target: the router matches paths only.
            let target = request.uri().path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
            *request.uri_mut() = Uri::from(target);
        }
        // Boxed for the reason given in `call_remote`.
        let routed = Box::pin(self.internal.clone().oneshot(request));
        match tokio::time::timeout(self.config.upstream_timeout, routed).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(never)) => match never {},
            Err(_) => {
                tracing::warn!(service, timeout = ?self.config.upstream_timeout, "upstream timed out");
                Err(ApiError::new(ErrorCode::UpstreamTimeout, format!("the {service} service did not answer in time")))
            }
        }
    }
}

/// Largest answer the cache keeps.
const CACHE_MAX_BYTES: usize = 1024 * 1024;

fn org_of(headers: &HeaderMap) -> Option<String> {
    headers.get(X_ORGANIZATION_ID).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The cache key of a GET to a service that opted in, for the verified organization. The
/// organization comes first so one prefix drops a tenant's entries; the query is normalised
/// (pairs sorted) so `?a=1&b=2` and `?b=2&a=1` share an entry.
fn cache_key(method: &Method, uri: &Uri, route: &Route<'_>, org: Option<&str>) -> Option<String> {
    if method != Method::GET {
        return None;
    }
    let org = org?;
    let mut pairs: Vec<&str> = uri.query().unwrap_or_default().split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_unstable();
    Some(format!("cache:{org}:{}:v1:{}:{}", route.service.as_str(), uri.path(), pairs.join("&")))
}

fn cacheable(response: &Response) -> bool {
    let private = response
        .headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("private") || v.contains("no-store"));
    response.status() == StatusCode::OK && !private
}

fn decode_cached(entry: &[u8]) -> Option<Response> {
    let split = entry.iter().position(|b| *b == b'\n')?;
    let content_type = HeaderValue::from_bytes(&entry[..split]).ok()?;
    let mut response = Response::new(axum::body::Body::from(entry[split + 1..].to_vec()));
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    response.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
    Some(response)
}

impl Gateway {
    /// Proxies to a service process: the request body streams up, the answer streams back.
    async fn call_remote(
        &self,
        upstream: &Upstream,
        request: Request,
        edits: Edits<'_>,
        keep_cookies: bool,
        service: &str,
    ) -> Result<Response, ApiError> {
        let added = edits.lines();
        let hide = |name: &HeaderName| hidden(name, keep_cookies);
        let rewrite = Rewrite { strip: edits.strip, added: &added, hide: &hide };
        let deadline = tokio::time::Instant::now() + self.config.upstream_timeout;
        // Boxed: the exchange's state is the largest part of a proxied request's future, and
        // every layer above would otherwise carry it and copy it at each await.
        let response = match Box::pin(upstream.send(request, rewrite, deadline)).await {
            Err(UpstreamError::TimedOut) => {
                tracing::warn!(service, "upstream timed out");
                return Err(ApiError::new(
                    ErrorCode::UpstreamTimeout,
                    format!("the {service} service did not answer in time"),
                ));
            }
            Err(UpstreamError::RequestBody(e)) => {
                return Err(ApiError::new(ErrorCode::BadRequest, format!("the request body could not be read: {e}")));
            }
            Err(e) => {
                tracing::warn!(service, error = %crate::http::error::chain(&e), "upstream unreachable");
                return Err(ApiError::new(ErrorCode::BadGateway, format!("the {service} service is unreachable")));
            }
            Ok(response) => response,
        };
        // The answer's body streams back as it arrives (chat answers are long-lived streams).
        Ok(response)
    }
}

/// What a forwarded request loses: hop-by-hop headers, credentials meant for the gateway
/// alone, and whatever `also` selects.
fn stripped<F: Fn(&HeaderName) -> bool>(
    headers: &HeaderMap,
    to_auth: bool,
    also: F,
) -> impl Fn(&HeaderName) -> bool + use<F> {
    let hop = HopByHop::of(headers);
    move |name| {
        hop.contains(name)
            || name == X_INTERNAL_KEY
            // Services never see the browser's session cookie; they get the JWT.
            || (!to_auth && (name == X_SERVICE_API_KEY || name == header::COOKIE))
            || also(name)
    }
}

/// Whether clients never see the answer header `name`: internal ones, `Server`, CORS headers
/// (the gateway sets its own) and, unless `keep_cookies`, `Set-Cookie`.
fn hidden(name: &HeaderName, keep_cookies: bool) -> bool {
    STRIP_RESPONSE.contains(name)
        || (!keep_cookies && name == header::SET_COOKIE)
        || name.as_str().starts_with("access-control-")
}

/// Removes from a service's answer what clients never see and its hop-by-hop headers, in one
/// pass (answers from services over HTTP lose them as they are read, see [`Rewrite`]).
fn clean_response(headers: &mut HeaderMap, keep_cookies: bool) {
    let hop = HopByHop::of(headers);
    remove_where(headers, |name| hop.contains(name) || hidden(name, keep_cookies));
}

/// CORS on the way out (services' own CORS headers were removed by [`Gateway::call`]): the
/// trusted origin reflected.
fn cors_headers(headers: &mut HeaderMap, allowed: Option<&HeaderValue>, credentials: bool) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if credentials {
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    }
}

impl Gateway {
    /// Everything under `/api/`, from the client at `peer`.
    pub async fn handle(&self, peer: SocketAddr, request: Request) -> Response {
        let origin = request.headers().get(header::ORIGIN).cloned();
        // The route borrows the path from a copy of the target (reference-counted, not copied).
        let uri = request.uri().clone();
        let route = parse_route(uri.path());
        // The tracker posts from shops' own sites, with no cookies: ingest reflects any real
        // origin without credentials, and the ingest service checks it against the
        // organization's allowed sites. Everything else reflects only trusted origins, with
        // credentials.
        let to_ingest = route.as_ref().is_some_and(|r| r.service == ServiceName::Ingest);
        let credentials = !to_ingest;
        let allowed = origin.filter(|o| {
            o.to_str().is_ok_and(|o| if to_ingest { o != "null" } else { self.state.trusted_origins().is_trusted(o) })
        });
        let preflight = request.method() == Method::OPTIONS
            && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut response = if preflight {
            StatusCode::NO_CONTENT.into_response()
        } else {
            self.pipeline(peer, request, route).await.unwrap_or_else(IntoResponse::into_response)
        };
        let headers = response.headers_mut();
        cors_headers(headers, allowed.as_ref(), credentials);
        if preflight && allowed.is_some() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_only_known_segments_and_versions() {
        let r = parse_route("/api/v1/crawler-jobs/42").unwrap();
        assert_eq!((r.service, r.rest), (ServiceName::Products, "/42"));
        let r = parse_route("/api/v1/users").unwrap();
        assert_eq!((r.service, r.rest), (ServiceName::Users, ""));
        for unrouted in ["/api/v2/users/me", "/api/v10/users/me", "/api/v1", "/api/v1/", "/api/users/me"] {
            assert!(parse_route(unrouted).is_none(), "{unrouted}");
        }
        assert!(parse_route("/api/v1/nope/x").is_none());
        assert!(parse_route("/other").is_none());
        assert!(is_public(&parse_route("/api/v1/patterns/health").unwrap(), &Method::GET));
        assert!(!is_public(&parse_route("/api/v1/patterns/health").unwrap(), &Method::POST));
        assert!(is_public(&parse_route("/api/v1/billing/webhook").unwrap(), &Method::POST));
    }

    #[test]
    fn api_keys_are_found_in_every_place_and_never_mistaken_for_jwts() {
        for (name, value) in
            [("x-api-key", "crow_sk_a"), ("authorization", "ApiKey crow_sk_a"), ("authorization", "Bearer crow_sk_a")]
        {
            let mut h = HeaderMap::new();
            h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
            assert_eq!(api_key(&h), Some("crow_sk_a"));
            assert!(bearer_jwt(&h).is_none());
        }
    }

    #[test]
    fn requests_lose_hop_by_hop_headers_gateway_credentials_and_what_the_caller_adds() {
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("keep-alive, X-Debug-Token"));
        for name in ["x-debug-token", "keep-alive", "te", "x-internal-key", "x-service-api-key", "cookie", "x-extra"] {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("1"));
        }
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let mut to_auth = h.clone();
        let strip = stripped(&h, false, |name| name == "x-extra");
        remove_where(&mut h, strip);
        assert_eq!(h.keys().collect::<Vec<_>>(), [header::ACCEPT], "{h:?}");
        // Auth reads its own cookies and service keys.
        let strip = stripped(&to_auth, true, |_| false);
        remove_where(&mut to_auth, strip);
        for kept in ["cookie", "x-service-api-key", "x-extra", "accept"] {
            assert!(to_auth.contains_key(kept), "{kept} dropped for auth: {to_auth:?}");
        }
        assert!(!to_auth.contains_key("x-internal-key"));
    }

    #[test]
    fn answers_lose_internal_cors_server_and_hop_headers_and_cookies_except_from_auth() {
        let mut h = HeaderMap::new();
        for name in ["access-control-allow-origin", "access-control-allow-credentials", "server", "x-powered-by"] {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("*"));
        }
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        h.insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut from_auth = h.clone();
        clean_response(&mut h, false);
        assert_eq!(h.keys().collect::<Vec<_>>(), [header::CONTENT_TYPE], "{h:?}");
        clean_response(&mut from_auth, true);
        assert_eq!(from_auth.len(), 2, "{from_auth:?}");
        assert!(from_auth.contains_key(header::SET_COOKIE));
    }

    #[test]
    fn cors_never_reflects_untrusted_origins() {
        let mut h = HeaderMap::new();
        cors_headers(&mut h, None, true);
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(h[header::VARY], "Origin");
    }
}
