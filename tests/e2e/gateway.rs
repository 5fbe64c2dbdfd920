//! The gateway's security suite, through the real listening server: tenant-header spoofing,
//! client-address spoofing, CORS against hostile and look-alike origins, rate limits, API keys
//! never forwarded as bearer tokens, the per-organization cache, security headers. Every case
//! runs against the one-process deployment and the split (three-process) one.

use crow_client::{Client, HttpMethod, RawResponse};
use crow_core::ErrorCode;
use crow_core::api::auth::CreateApiKey;

use crate::support::{Mode, ORIGIN, start_in};

async fn get(client: &Client, path: &str) -> RawResponse {
    client.raw(HttpMethod::GET, path, None, Vec::new()).await.unwrap()
}

async fn preflight(client: &Client, path: &str) -> RawResponse {
    client
        .clone()
        .with_header("access-control-request-method", "POST")
        .raw(HttpMethod::OPTIONS, path, None, Vec::new())
        .await
        .unwrap()
}

async fn tenant(app: &crate::support::Running, email: &str, slug: &str) -> (Client, crow_core::OrganizationId) {
    crate::support::tenant(app, slug, email, slug).await
}

async fn spoofed_tenant_and_user_headers_are_replaced(mode: Mode) {
    let app = start_in(mode, &[]).await;
    let (ada, acme) = tenant(&app, "ada@acme.io", "acme").await;
    let (_, beta) = tenant(&app, "bob@beta.io", "beta").await;
    let victim = beta.to_string();
    // Every casing, several copies, plus a forged user id.
    let spoofing = ada
        .clone()
        .with_header("X-Organization-Id", victim.clone())
        .with_header("x-organization-id", victim.clone())
        .with_header("X-ORGANIZATION-ID", victim.clone())
        .with_header("X-User-Id", "01a204ba-0000-7000-8000-000000000000");
    // Reaching one's own organization works: the spoofed headers were stripped and replaced.
    assert_eq!(spoofing.organization(acme).await.unwrap().id, acme);
    // Reaching the victim's is refused whatever the headers say.
    let err = spoofing.organization(beta).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some(ErrorCode::Forbidden)));
    let me = spoofing.me().await.unwrap();
    assert_eq!(me.email, "ada@acme.io");
    app.stop().await;
}

async fn forwarded_for_from_an_untrusted_peer_is_ignored_and_limits_answer_429(mode: Mode) {
    let app = start_in(mode, &[("CROW_GATEWAY_RATE_PER_MINUTE", "60"), ("CROW_GATEWAY_RATE_BURST", "3")]).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        // A fresh "client address" each time: it must not buy a fresh allowance.
        let c = app.client().with_header("x-forwarded-for", format!("198.51.100.{i}"));
        statuses.push(get(&c, "/api/v1/patterns/health").await);
    }
    assert!(statuses[..3].iter().all(|r| r.status == 200));
    let limited = &statuses[3];
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error().unwrap().code, "RATE_LIMITED");
    assert!(limited.retry_after.is_some());
    assert_eq!(limited.header("ratelimit-limit"), Some("60"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert!(limited.header("ratelimit-reset").is_some());
    app.stop().await;
}

async fn cors_reflects_only_trusted_origins(mode: Mode) {
    let app = start_in(mode, &[("CROW_TRUSTED_ORIGINS", "https://app.example.com,https://*.crow.dev")]).await;
    let cases = [
        ("https://app.example.com", true),
        ("https://dash.crow.dev", true),
        ("https://a.b.crow.dev", true),
        (ORIGIN, true), // localhost, in the local environment
        ("https://evil.example", false),
        ("null", false),
        ("https://app.example.com.evil.com", false),
        ("https://evilexample.com", false),
        ("https://evilcrow.dev", false),
        ("https://crow.dev", false),
        ("http://app.example.com", false),
    ];
    for (origin, trusted) in cases {
        let c = app.client().with_origin(origin);
        for r in [preflight(&c, "/api/v1/organizations/x").await, get(&c, "/api/v1/patterns/health").await] {
            let acao = r.header("access-control-allow-origin");
            assert_eq!(acao, trusted.then_some(origin), "{origin}");
            assert_ne!(acao, Some("*"));
            assert!(r.headers.iter().any(|(k, v)| k == "vary" && v.contains("Origin")), "{origin}: Vary");
            if trusted {
                assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
            }
        }
        let p = preflight(&c, "/api/v1/organizations/x").await;
        assert_eq!(p.status, 204);
        if trusted {
            assert!(p.header("access-control-allow-headers").unwrap().contains("X-API-Key"));
            assert!(p.header("access-control-max-age").is_some());
        }
    }
    app.stop().await;
}

async fn api_keys_reach_services_as_jwts_and_publishable_keys_only_ingest(mode: Mode) {
    let app = start_in(mode, &[]).await;
    let (ada, _) = tenant(&app, "ada@acme.io", "acme").await;
    let secret = ada.create_api_key(&CreateApiKey::default()).await.unwrap().key;
    // In every place a key may travel, the service sees a verified JWT (a raw `crow_` bearer
    // would make `me` fail: services accept only JWTs).
    // A JWT the client holds is verified and passed on as the one `Authorization` header
    // (services refuse a request carrying two).
    let jwt = ada.token().await.unwrap();
    for client in [
        app.client().with_api_key(secret.clone()),
        app.client().with_header("authorization", format!("Bearer {secret}")),
        app.client().with_header("authorization", format!("ApiKey {secret}")),
        app.client().with_bearer(jwt),
    ] {
        assert_eq!(client.me().await.unwrap().email, "ada@acme.io");
    }
    let publishable = ada
        .create_api_key(&CreateApiKey { kind: Some(crow_core::domain::ApiKeyKind::Publishable), ..Default::default() })
        .await
        .unwrap()
        .key;
    let err = app.client().with_api_key(publishable).me().await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some(ErrorCode::Forbidden)));
    let err = app.client().with_api_key("crow_sk_not_a_real_key").me().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    app.stop().await;
}

async fn sessions_are_revalidated_after_sign_out_and_security_headers_are_set(mode: Mode) {
    let app = start_in(mode, &[]).await;
    let (ada, _) = tenant(&app, "ada@acme.io", "acme").await;
    assert!(ada.me().await.is_ok());
    ada.sign_out().await.unwrap();
    // The gateway's short identity cache is dropped on sign-out.
    assert_eq!(ada.me().await.unwrap_err().status(), Some(401));
    let r = get(&app.client(), "/api/v1/patterns/health").await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name}");
    }
    assert!(r.header("strict-transport-security").is_some());
    let id = r.header("x-request-id").expect("a request id");
    assert!(id.len() == 36 && id.matches('-').count() == 4, "a UUID: {id}");
    // A caller's own request id is kept, so its logs and ours share it.
    let r = get(&app.client().with_header("x-request-id", "trace-4711"), "/api/v1/patterns/health").await;
    assert_eq!(r.header("x-request-id"), Some("trace-4711"));
    // Outside the API too: the probes and unknown paths (a JSON 404) carry the headers.
    for path in ["/health", "/no/such/page"] {
        let r = get(&app.client(), path).await;
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(r.header("x-request-id").is_some(), "{path}");
    }
    let r = get(&app.client(), "/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(serde_json::from_slice::<crow_core::ErrorBody>(&r.body).is_ok());
    app.stop().await;
}

async fn the_cache_never_crosses_organizations_and_writes_invalidate_it(mode: Mode) {
    let app = start_in(mode, &[]).await;
    let (ada, acme) = tenant(&app, "ada@acme.io", "acme").await;
    let (bob, beta) = tenant(&app, "bob@beta.io", "beta").await;
    let path = format!("/api/v1/organizations/{acme}");
    // A write first: it clears whatever the set-up's reads cached.
    ada.update_organization(acme, serde_json::json!({ "logo": "https://acme.io/logo.png" })).await.unwrap();
    let first = get(&ada, &path).await;
    assert_eq!((first.status, first.header("x-cache")), (200, Some("miss")));
    let second = get(&ada, &path).await;
    assert_eq!((second.status, second.header("x-cache")), (200, Some("hit")));
    assert_eq!(second.body, first.body);
    // Another organization asking for the same path is never served Acme's cached answer.
    let leak = get(&bob, &path).await;
    assert_eq!(leak.status, 403);
    assert_ne!(leak.header("x-cache"), Some("hit"));
    assert_eq!(get(&bob, &format!("/api/v1/organizations/{beta}")).await.status, 200);
    // A write drops Acme's entries: the next read sees the change.
    ada.update_organization(acme, serde_json::json!({ "name": "Acme Renamed" })).await.unwrap();
    let after = get(&ada, &path).await;
    assert_eq!(after.header("x-cache"), Some("miss"));
    assert!(String::from_utf8_lossy(&after.body).contains("Acme Renamed"));
    // Services that did not opt in are never cached.
    assert_eq!(get(&ada, "/api/v1/users/me").await.header("x-cache"), None);
    app.stop().await;
}

macro_rules! in_both_deployments {
    ($($case:ident),+ $(,)?) => {
        mod one_process {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Mode::OneProcess).await;
            })+
        }
        mod split {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Mode::Split).await;
            })+
        }
    };
}

in_both_deployments!(
    spoofed_tenant_and_user_headers_are_replaced,
    forwarded_for_from_an_untrusted_peer_is_ignored_and_limits_answer_429,
    cors_reflects_only_trusted_origins,
    api_keys_reach_services_as_jwts_and_publishable_keys_only_ingest,
    sessions_are_revalidated_after_sign_out_and_security_headers_are_set,
    the_cache_never_crosses_organizations_and_writes_invalidate_it
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_service_processes_refuse_direct_access_without_the_internal_key() {
    let app = start_in(Mode::Split, &[]).await;
    for behind in &app.behind {
        let direct = Client::new(&format!("http://{}", behind.local_addr())).unwrap();
        let r = get(&direct, "/api/v1/organizations/00000000-0000-7000-8000-000000000000").await;
        let r2 = get(&direct, "/api/v1/patterns/health").await;
        // The service it hosts refuses (401); the one it does not host does not exist (404).
        let statuses = [r.status, r2.status];
        assert!(statuses.contains(&401) && statuses.contains(&404), "{statuses:?}");
        for r in [r, r2].iter().filter(|r| r.status == 401) {
            assert_eq!(r.error().unwrap().code, "INVALID_INTERNAL_KEY");
        }
    }
    app.stop().await;
}
