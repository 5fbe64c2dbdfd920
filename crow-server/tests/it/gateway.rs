//! The gateway in front of a hostile upstream: whatever a service answers, clients never see
//! its CORS headers, `Server`, internal headers or (outside auth) cookies; a slow service becomes
//! a 504 with the JSON error body.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use crow_server::gateway::Gateway;
use tower::ServiceExt as _;

const KEY: &str = "internal-key-internal-key-internal-key-0001";

async fn gateway(upstream: Router) -> (Router, tempfile::TempDir) {
    let (gw, _, dir) = gateway_with_state(upstream).await;
    (gw, dir)
}

async fn gateway_with_state(upstream: Router) -> (Router, crow_server::app::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![
        ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("CROW_INTERNAL_GATEWAY_KEY".to_owned(), KEY.to_owned()),
        ("CROW_UPSTREAM_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        ("CROW_TRUSTED_ORIGINS".to_owned(), "https://app.example.com".to_owned()),
    ];
    let config = crow_server::Layers::load(None, vars).unwrap().resolve().unwrap();
    let state = crow_server::app::build_state(config.clone()).await.unwrap();
    let local = crow_server::services::ServiceName::ALL.to_vec();
    let gw = Arc::new(Gateway::new(
        state.clone(),
        upstream,
        local,
        config.internal_gateway_key.clone(),
        config.gateway.clone(),
    ));
    (as_router(gw), state, dir)
}

/// The gateway as a router, for `oneshot` requests from a loopback client.
fn as_router(gw: Arc<Gateway>) -> Router {
    from_peer(gw, [127, 0, 0, 1])
}

/// The gateway as a router, for requests from `ip`.
fn from_peer(gw: Arc<Gateway>, ip: [u8; 4]) -> Router {
    let peer = std::net::SocketAddr::from((ip, 40000));
    Router::new().fallback(move |request: axum::extract::Request| async move { gw.handle(peer, request).await })
}

fn hostile() -> Router {
    Router::new()
        .route(
            "/api/v1/patterns/health",
            get(|| async {
                (
                    [
                        ("set-cookie", "tracking=1"),
                        ("access-control-allow-origin", "*"),
                        ("access-control-allow-credentials", "true"),
                        ("server", "leaky/1.0"),
                        ("x-powered-by", "php"),
                        ("x-internal-key", "oops"),
                    ],
                    "{}",
                )
            }),
        )
        .route(
            "/api/v1/patterns/ready",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
}

/// Asserts that none of what `hostile` answers with reached the client.
fn assert_cleaned(headers: &axum::http::HeaderMap) {
    for gone in [
        "set-cookie",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "server",
        "x-powered-by",
        "x-internal-key",
    ] {
        assert!(headers.get(gone).is_none(), "{gone} leaked");
    }
}

#[tokio::test]
async fn upstream_headers_are_cleaned() {
    let (gw, _dir) = gateway(hostile()).await;
    let request =
        Request::get("/api/v1/patterns/health").header("origin", "https://evil.example").body(Body::empty()).unwrap();
    let response = gw.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_cleaned(h);
    assert_eq!(h["vary"], "Origin");
    // A trusted origin is reflected, with credentials, never `*`.
    let request = Request::get("/api/v1/patterns/health")
        .header("origin", "https://app.example.com")
        .body(Body::empty())
        .unwrap();
    let response = gw.oneshot(request).await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(response.headers()["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn a_caller_without_credentials_cannot_name_the_organization_of_a_cache_entry() {
    // Organizations' answers are cached per organization; their probes are public routes.
    let upstream = Router::new().route("/api/v1/organizations/health", get(|| async { "{}" }));
    let (gw, state, _dir) = gateway_with_state(upstream).await;
    let victim = crow_core::OrganizationId::new().to_string();
    let request = Request::get("/api/v1/organizations/health")
        .header("x-organization-id", victim.as_str())
        .body(Body::empty())
        .unwrap();
    assert_eq!(gw.oneshot(request).await.unwrap().status(), StatusCode::OK);
    let entry = format!("cache:{victim}:organizations:v1:/api/v1/organizations/health:");
    assert_eq!(state.backends().cache.get(&entry).await.unwrap(), None, "a client-named organization was used");
}

#[tokio::test]
async fn a_slow_upstream_is_a_504() {
    let (gw, _dir) = gateway(hostile()).await;
    let started = std::time::Instant::now();
    let response = gw.oneshot(Request::get("/api/v1/patterns/ready").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(3));
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    let body: crow_core::ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.code, "UPSTREAM_TIMEOUT");
}

async fn remote_gateway(url: &str) -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![
        ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("CROW_INTERNAL_GATEWAY_KEY".to_owned(), KEY.to_owned()),
        ("CROW_UPSTREAM_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        ("CROW_SERVICES".to_owned(), "none".to_owned()),
        ("CROW_SERVICE_URLS".to_owned(), format!("patterns={url}")),
    ];
    let config = crow_server::Layers::load(None, vars).unwrap().resolve().unwrap();
    let state = crow_server::app::build_state(config.clone()).await.unwrap();
    let gw = Arc::new(Gateway::new(
        state,
        Router::new(),
        Vec::new(),
        config.internal_gateway_key.clone(),
        config.gateway.clone(),
    ));
    (as_router(gw), dir)
}

async fn code_of(gw: Router, path: &str) -> (StatusCode, String) {
    let response = gw.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn remote_upstreams_time_out_as_504_and_unreachable_ones_are_502() {
    // A slow service process.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hostile()).await.unwrap() });
    let (gw, _d1) = remote_gateway(&format!("http://{slow_addr}")).await;
    let (status, body) = code_of(gw.clone(), "/api/v1/patterns/ready").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(body.contains("UPSTREAM_TIMEOUT"));
    // Relayed answers are cleaned like in-process ones.
    let response = gw.oneshot(Request::get("/api/v1/patterns/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_cleaned(response.headers());
    // Nobody listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let (gw, _d2) = remote_gateway(&format!("http://{closed}")).await;
    let (status, body) = code_of(gw.clone(), "/api/v1/patterns/health").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.contains("BAD_GATEWAY"));
    // A service with no URL is not deployed.
    let (status, _) = code_of(gw, "/api/v1/users/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// A service process that answers with the identity headers the gateway forwarded.
fn echo() -> Router {
    Router::new().route(
        "/api/v1/patterns/whoami",
        get(|headers: axum::http::HeaderMap| async move {
            let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            axum::Json(serde_json::json!({
                "authorization": h("authorization"),
                "organization": h("x-organization-id"),
                "user": h("x-user-id"),
            }))
        }),
    )
}

#[tokio::test]
async fn services_that_allow_it_get_one_anonymous_session_per_client_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, echo()).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![
        ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("CROW_INTERNAL_GATEWAY_KEY".to_owned(), KEY.to_owned()),
        ("CROW_SERVICES".to_owned(), "auth,users,organizations".to_owned()),
        ("CROW_SERVICE_URLS".to_owned(), format!("patterns=http://{addr}")),
        ("CROW_GATEWAY_ANONYMOUS_SERVICES".to_owned(), "patterns".to_owned()),
    ];
    let config = crow_server::Layers::load(None, vars).unwrap().resolve().unwrap();
    let state = crow_server::app::build_state(config.clone()).await.unwrap();
    let local = config.services.clone();
    let gw = Arc::new(Gateway::new(
        state.clone(),
        crow_server::app::internal_router(state.clone(), &local),
        local,
        config.internal_gateway_key.clone(),
        config.gateway.clone(),
    ));
    let whoami = |ip: [u8; 4], api_key: Option<&'static str>| {
        let gw = Arc::clone(&gw);
        async move {
            let mut request = Request::get("/api/v1/patterns/whoami");
            if let Some(key) = api_key {
                request = request.header("x-api-key", key);
            }
            let response = from_peer(gw, ip).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
            (status, serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default())
        }
    };
    let (status, first) = whoami([203, 0, 113, 7], None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(first["organization"].is_null() && first["user"].is_null(), "no tenant for anonymous callers: {first}");
    let bearer = first["authorization"].as_str().expect("a bearer token");
    let jwt = bearer.strip_prefix("Bearer ").unwrap();
    // A real token from the deployment's keys, for an anonymous subject and no organization.
    let claims = state.verifier().verify(jwt, crow_core::Timestamp::now()).await.unwrap();
    assert!(claims.sub.starts_with("anon:"), "{}", claims.sub);
    assert!(claims.organization_id.is_none() && claims.email.is_none() && claims.role.is_none());
    assert!(claims.exp - claims.iat >= 3600, "outlives the hour it is reused for");
    // The same address reuses its session; another address gets its own.
    let (_, again) = whoami([203, 0, 113, 7], None).await;
    assert_eq!(again["authorization"], first["authorization"]);
    let (_, other) = whoami([198, 51, 100, 1], None).await;
    assert_ne!(other["authorization"], first["authorization"]);
    // Credentials that fail are refused, never downgraded to anonymous.
    let (status, _) = whoami([203, 0, 113, 7], Some("crow_sk_not_a_real_key")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Services not listed still require credentials.
    let response = from_peer(Arc::clone(&gw), [203, 0, 113, 7])
        .oneshot(Request::get("/api/v1/users/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Reads one request head (and, when `body_until` is given, the body up to that marker) from a
/// raw connection; `None` when the peer closed it.
async fn read_request(io: &mut tokio::net::TcpStream, body_until: Option<&str>) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut raw = Vec::new();
    let end = body_until.unwrap_or("\r\n\r\n");
    while !String::from_utf8_lossy(&raw).contains(end) {
        let mut chunk = [0; 4096];
        let n = io.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&raw).into_owned())
}

#[tokio::test]
async fn service_connections_stream_both_ways_are_reused_and_replaced_when_the_service_closed_them() {
    use futures_util::StreamExt as _;
    use tokio::io::AsyncWriteExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (first_seen_tx, first_seen_rx) = tokio::sync::oneshot::channel::<()>();
    // A scripted service process speaking raw HTTP/1.1.
    let service = tokio::spawn(async move {
        let (mut io, _) = listener.accept().await.unwrap();
        let head = read_request(&mut io, None).await.unwrap();
        assert!(head.starts_with("GET /api/v1/patterns/stream HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("x-internal-key:") && head.contains(&format!("host: {addr}")), "{head}");
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        io.write_all(b"6\r\nfirst \r\n").await.unwrap();
        // The rest is sent only once the client has seen the first part: the body streams.
        first_seen_rx.await.unwrap();
        io.write_all(b"6\r\nsecond\r\n0\r\n\r\n").await.unwrap();
        // The same connection carries the next request; then the service drops it unannounced.
        let head = read_request(&mut io, None).await.unwrap();
        assert!(head.starts_with("GET /api/v1/patterns/one "), "{head}");
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\none").await.unwrap();
        drop(io);
        // A new connection for what follows.
        let (mut io, _) = listener.accept().await.unwrap();
        let head = read_request(&mut io, None).await.unwrap();
        assert!(head.starts_with("GET /api/v1/patterns/two "), "{head}");
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\ntwo").await.unwrap();
        // A streamed upload arrives chunked, with the client's framing headers replaced.
        let request = read_request(&mut io, Some("0\r\n\r\n")).await.unwrap();
        assert!(request.starts_with("POST /api/v1/patterns/upload "), "{request}");
        assert!(request.contains("transfer-encoding: chunked\r\n") && !request.contains("content-length"), "{request}");
        assert!(request.ends_with("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "{request}");
        io.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok").await.unwrap();
        // Nothing else connects: every request above after the first reused a connection or
        // replaced the closed one.
        tokio::time::timeout(Duration::from_millis(300), listener.accept()).await.is_err()
    });
    let (gw, _dir) = remote_gateway(&format!("http://{addr}")).await;
    let call = |request: Request<Body>| {
        let gw = gw.clone();
        async move { gw.oneshot(request).await.unwrap() }
    };
    let get = |path: &str| Request::get(path).header("x-internal-key", KEY).body(Body::empty()).unwrap();

    let response = call(get("/api/v1/patterns/stream")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body().into_data_stream();
    assert_eq!(body.next().await.unwrap().unwrap(), "first ");
    first_seen_tx.send(()).unwrap();
    let mut rest = Vec::new();
    while let Some(part) = body.next().await {
        rest.extend_from_slice(&part.unwrap());
    }
    assert_eq!(rest, b"second");

    for (path, expected) in [("/api/v1/patterns/one", "one"), ("/api/v1/patterns/two", "two")] {
        let response = call(get(path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(axum::body::to_bytes(response.into_body(), 64).await.unwrap(), expected);
    }

    let parts = futures_util::stream::iter(["hello", " world"].map(|p| Ok::<_, std::io::Error>(p.to_owned())));
    let upload = Request::post("/api/v1/patterns/upload")
        .header("x-internal-key", KEY)
        .header("content-type", "text/plain")
        .body(Body::from_stream(parts))
        .unwrap();
    let response = call(upload).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(axum::body::to_bytes(response.into_body(), 64).await.unwrap(), "ok");
    assert!(service.await.unwrap(), "the gateway opened a connection it did not need");
}
