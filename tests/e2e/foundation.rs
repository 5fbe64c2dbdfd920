//! The foundation: probes, the internal-key guard, service subsets, secrets, shutdown.

use crow_client::{Client, Error};
use crow_core::ErrorCode;
use crow_server::{Layers, Server};

use crate::support::{KEY, start};

#[tokio::test]
async fn starts_on_port_zero_and_is_ready() {
    let app = start(&[]).await;
    let client = app.client();
    assert_eq!(client.health().await.unwrap().status, "ok");
    let ready = client.ready().await.unwrap();
    assert_eq!(ready.status, "ready");
    assert!(ready.checks.iter().any(|c| c.name == "database" && c.ok));
    app.server.stop().await;
}

#[tokio::test]
async fn service_probes_are_public_through_the_gateway_and_data_routes_are_not() {
    let app = start(&[]).await;
    let anonymous = app.client();
    for segment in crow_server::services::ServiceName::ALL.iter().flat_map(|s| s.segments()) {
        let health = anonymous.service_health(segment).await.unwrap();
        assert_eq!(health.status, "ok", "{segment}");
        assert_eq!(anonymous.service_ready(segment).await.unwrap().status, "ready");
    }
    // Anything else needs credentials; a wrong internal key is no credential.
    let org = crow_core::OrganizationId::new();
    for client in [&anonymous, &app.client().with_internal_key("not-the-key-not-the-key-not-the-key")] {
        let err = client.organization(org).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(401), Some(ErrorCode::Unauthorized)));
    }
    app.server.stop().await;
}

#[tokio::test]
async fn unconfigured_internal_key_answers_503() {
    // Outside `local` no key is generated; services must refuse everyone rather than trust anyone.
    let app = start(&[
        ("CROW_ENVIRONMENT", "dev"),
        ("CROW_INTERNAL_GATEWAY_KEY", ""),
        ("CROW_AUTH_SECRET", "an-auth-secret-of-at-least-32-characters"),
    ])
    .await;
    let err = app.client().with_internal_key(KEY).service_health("users").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.code(), Some(ErrorCode::ServiceUnavailable));
    // The process probes stay public.
    assert_eq!(app.client().health().await.unwrap().status, "ok");
    app.server.stop().await;
}

#[tokio::test]
async fn a_service_subset_serves_only_its_routes() {
    let app = start(&[("CROW_SERVICES", "auth,interactions")]).await;
    let client = app.client().with_internal_key(KEY);
    assert_eq!(client.service_health("better-auth").await.unwrap().service, "auth");
    assert_eq!(client.service_health("interactions").await.unwrap().service, "interactions");
    // A known service this deployment does not run: the gateway says so.
    let err = client.service_health("patterns").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(503), Some(ErrorCode::ServiceUnavailable)));
    app.server.stop().await;
}

#[tokio::test]
async fn unknown_routes_get_the_json_error_body() {
    let app = start(&[]).await;
    let err = app.client().with_internal_key(KEY).service_health("no-such-service").await.unwrap_err();
    match err {
        Error::Api { status, body } => {
            assert_eq!(status, 404);
            assert_eq!(body.code, "NOT_FOUND");
            assert!(!body.message.is_empty());
        }
        other => panic!("expected an API error, got {other}"),
    }
    app.server.stop().await;
}

#[tokio::test]
async fn stopped_server_refuses_connections() {
    let app = start(&[]).await;
    let client = app.client();
    assert!(client.health().await.is_ok());
    app.server.stop().await;
    assert!(matches!(client.health().await, Err(Error::Transport(_))));
}

#[tokio::test]
async fn local_secrets_are_generated_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let env = || {
        vec![
            ("CROW_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ]
    };
    let first = Server::start(Layers::load(None, env()).unwrap().resolve().unwrap()).await.unwrap();
    first.stop().await;
    let secrets = std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap();
    let key = secrets
        .lines()
        .find_map(|l| l.strip_prefix("internal_gateway_key = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    assert_eq!(key.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secrets.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "secrets file is private");
    }
    // A second start reuses the stored key: the same key opens the services.
    let second = Server::start(Layers::load(None, env()).unwrap().resolve().unwrap()).await.unwrap();
    let client = Client::new(&format!("http://{}", second.local_addr())).unwrap().with_internal_key(key);
    assert_eq!(client.service_health("users").await.unwrap().status, "ok");
    assert_eq!(std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap(), secrets);
    second.stop().await;
}

/// One request on its own connection; the answer's head (lower-cased) and body.
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(request.as_bytes()).await.unwrap();
    let mut wire = Vec::new();
    io.read_to_end(&mut wire).await.unwrap();
    let end = wire.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head") + 4;
    (String::from_utf8_lossy(&wire[..end]).to_lowercase(), wire[end..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// The tracker's files reach a storefront's browser compressed as it accepts, and a cached copy
/// is revalidated with a 304 instead of downloaded again.
#[tokio::test]
async fn the_tracker_is_served_precompressed_and_revalidated_by_etag() {
    let app = start(&[]).await;
    let addr = app.server.local_addr();
    let built = include_bytes!("../../crow-web-sdk/dist/crow_web_sdk_bg.wasm");
    let gzip = include_bytes!("../../crow-web-sdk/dist/crow_web_sdk_bg.wasm.gz");
    let brotli = include_bytes!("../../crow-web-sdk/dist/crow_web_sdk_bg.wasm.br");
    let get = async |method: &str, extra: &str| {
        let request =
            format!("{method} /sdk/crow_web_sdk_bg.wasm HTTP/1.1\r\nHost: shop\r\n{extra}Connection: close\r\n\r\n");
        raw_exchange(addr, &request).await
    };

    // No Accept-Encoding: the file as built.
    let (head, body) = get("GET", "").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-encoding"), None, "{head}");
    assert_eq!(body, built);
    assert_eq!(header(&head, "content-type"), Some("application/wasm"));
    assert_eq!(header(&head, "vary"), Some("accept-encoding"));
    assert_eq!(header(&head, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&head, "cache-control"), Some("public, max-age=300, stale-while-revalidate=86400"));
    let plain_tag = header(&head, "etag").expect("an etag").to_owned();

    // What Chromium sends over plain HTTP, then over HTTPS.
    let (head, body) = get("GET", "Accept-Encoding: gzip, deflate\r\n").await;
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    assert_eq!(body, gzip);
    let (head, body) = get("GET", "Accept-Encoding: gzip, deflate, br, zstd\r\n").await;
    assert_eq!(header(&head, "content-encoding"), Some("br"), "{head}");
    assert_eq!(body, brotli);
    assert!(brotli.len() < gzip.len() && gzip.len() < built.len());
    let br_tag = header(&head, "etag").expect("an etag").to_owned();
    assert_ne!(br_tag, plain_tag, "each coding is its own representation");

    // HEAD: the length a GET would send, no body.
    let (head, body) = get("HEAD", "Accept-Encoding: br\r\n").await;
    assert_eq!(header(&head, "content-length"), Some(brotli.len().to_string().as_str()), "{head}");
    assert!(body.is_empty());

    // Revalidation: the tag of the representation held → 304, no body; another coding's tag → 200.
    let revalidate = format!("Accept-Encoding: gzip, deflate, br\r\nIf-None-Match: W/\"x\", {br_tag}\r\n");
    let (head, body) = get("GET", &revalidate).await;
    assert!(head.starts_with("http/1.1 304"), "{head}");
    assert!(body.is_empty());
    assert_eq!(header(&head, "etag"), Some(br_tag.as_str()));
    let (head, body) = get("GET", &format!("Accept-Encoding: gzip\r\nIf-None-Match: {br_tag}\r\n")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, gzip);
    app.server.stop().await;
}
