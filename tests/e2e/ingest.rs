//! Web ingest end to end, server side: a tracker batch with a publishable key from an allowed
//! site → validation → the durable queue → the interaction service → the query API.

use std::time::Duration;

use crow_client::{Client, HttpMethod, RawResponse};
use crow_core::api::auth::CreateApiKey;
use crow_core::domain::ApiKeyKind;
use serde_json::{Value, json};

use crate::support::{Running, start};

const SHOP: &str = "https://shop.acme.io";

struct Shop {
    owner: Client,
    publishable: String,
    secret: String,
}

async fn shop(app: &Running, email: &str, slug: &str) -> Shop {
    let (owner, org) = crate::support::tenant(app, slug, email, slug).await;
    owner.update_organization(org, json!({ "allowedOrigins": [SHOP] })).await.unwrap();
    let publishable = owner
        .create_api_key(&CreateApiKey { kind: Some(ApiKeyKind::Publishable), ..Default::default() })
        .await
        .unwrap()
        .key;
    let secret = owner.create_api_key(&CreateApiKey::default()).await.unwrap().key;
    Shop { owner, publishable, secret }
}

fn event(id: &str, kind: Value) -> Value {
    let mut e = json!({
        "id": id,
        "ts": crow_core::Timestamp::now().as_millis(),
        "sessionId": "sess-1",
        "url": "https://shop.acme.io/p/mug",
    });
    e.as_object_mut().unwrap().extend(kind.as_object().unwrap().clone());
    e
}

fn batch(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "v": 1, "sentAt": crow_core::Timestamp::now().as_millis(), "events": events })).unwrap()
}

async fn post(app: &Running, key: &str, origin: Option<&str>, body: Vec<u8>) -> RawResponse {
    let mut c = app.client().with_api_key(key);
    if let Some(o) = origin {
        c = c.with_origin(o);
    }
    c.raw(HttpMethod::POST, "/api/v1/ingest/events", Some("application/json"), body).await.unwrap()
}

async fn interactions(client: &Client) -> Value {
    let r = client.raw(HttpMethod::GET, "/api/v1/interactions?limit=100", None, Vec::new()).await.unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    serde_json::from_slice(&r.body).unwrap()
}

async fn wait_for(client: &Client, n: usize) -> Value {
    for _ in 0..100 {
        let page = interactions(client).await;
        if page["items"].as_array().unwrap().len() >= n {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("interactions did not arrive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_events_become_analysed_interactions_exactly_once() {
    let app = start(&[]).await;
    let acme = shop(&app, "ada@acme.io", "acme").await;
    let events = vec![
        event(
            "0192f0c4-8a4e-7cc3-9b1a-000000000001",
            json!({ "type": "product_view", "product": { "externalId": "mug-1", "name": "Blue mug" } }),
        ),
        event("0192f0c4-8a4e-7cc3-9b1a-000000000002", json!({ "type": "teleport" })),
        event(
            "0192f0c4-8a4e-7cc3-9b1a-000000000003",
            json!({ "type": "add_to_cart", "item": { "product": { "externalId": "mug-1" }, "quantity": 1 } }),
        ),
        event(
            "0192f0c4-8a4e-7cc3-9b1a-000000000004",
            json!({ "type": "rage_click", "path": "button.buy", "count": 4 }),
        ),
    ];
    let r = post(&app, &acme.publishable, Some(SHOP), batch(events.clone())).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(r.header("access-control-allow-credentials"), None, "the tracker sends no credentials");
    let receipt: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(receipt["accepted"], 3);
    assert_eq!(receipt["rejected"][0]["index"], 1, "the invalid event is reported, the valid ones kept");

    let page = wait_for(&acme.owner, 3).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"product_view") && kinds.contains(&"add_to_cart") && kinds.contains(&"rage_click"));
    let rage = items.iter().find(|i| i["kind"] == "rage_click").unwrap();
    assert_eq!(rage["analysis"]["sentiment"], "negative");
    let view = items.iter().find(|i| i["kind"] == "product_view").unwrap();
    assert_eq!(view["products"][0]["externalId"], "mug-1");
    assert!(view["analysis"]["summary"].as_str().unwrap().contains("Blue mug"));
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&page).unwrap()).contains("127.0.0.1"), "no raw IP stored");

    // The tracker retries the same batch (a lost response): nothing is counted twice.
    assert_eq!(post(&app, &acme.publishable, Some(SHOP), batch(events)).await.status, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(interactions(&acme.owner).await["items"].as_array().unwrap().len(), 3);

    // The session timeline and the counts.
    let t = acme.owner.raw(HttpMethod::GET, "/api/v1/interactions/sessions/sess-1", None, Vec::new()).await.unwrap();
    let timeline: Value = serde_json::from_slice(&t.body).unwrap();
    assert_eq!(timeline["interactions"].as_array().unwrap().len(), 3);
    let c =
        acme.owner.raw(HttpMethod::GET, "/api/v1/interactions/counts?kind=rage_click", None, Vec::new()).await.unwrap();
    let counts: Value = serde_json::from_slice(&c.body).unwrap();
    assert_eq!(counts["byKind"]["rage_click"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_refuses_bad_input_and_foreign_sites() {
    let app = start(&[]).await;
    let acme = shop(&app, "ada@acme.io", "acme").await;
    let one = || batch(vec![event("0192f0c4-8a4e-7cc3-9b1a-0000000000aa", json!({ "type": "page_view" }))]);
    // (what, Origin, body, status, code)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("malformed JSON", Some(SHOP), b"{not json".to_vec(), 400, "INVALID_JSON"),
        ("wrong origin", Some("https://evil.example"), one(), 403, "FORBIDDEN"),
        ("look-alike origin", Some("https://shop.acme.io.evil.com"), one(), 403, "FORBIDDEN"),
        ("no origin with a publishable key", None, one(), 403, "FORBIDDEN"),
        ("future schema", Some(SHOP), br#"{"v":2,"sentAt":0,"events":[]}"#.to_vec(), 422, "VALIDATION_FAILED"),
        ("oversized body", Some(SHOP), vec![b' '; 600 * 1024], 413, "PAYLOAD_TOO_LARGE"),
    ];
    for (what, origin, body, status, code) in cases {
        let r = post(&app, &acme.publishable, origin, body).await;
        assert_eq!((r.status, r.error().map(|e| e.code).as_deref()), (status, Some(code)), "{what}");
    }
    // The same publishable key in the `ApiKey` form still needs the site's Origin.
    let r = app
        .client()
        .with_header("authorization", format!("ApiKey {}", acme.publishable))
        .raw(HttpMethod::POST, "/api/v1/ingest/events", Some("application/json"), one())
        .await
        .unwrap();
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    // Events that name another organization (in the batch or in an event).
    let beta = shop(&app, "bob@beta.io", "beta").await;
    let beta_org = beta.owner.list_organizations().await.unwrap()[0].id.to_string();
    let foreign = json!({ "v": 1, "sentAt": 0, "organizationId": beta_org, "events": [] });
    let r = post(&app, &acme.publishable, Some(SHOP), serde_json::to_vec(&foreign).unwrap()).await;
    assert_eq!((r.status, r.error().map(|e| e.code).as_deref()), (403, Some("FORBIDDEN")), "batch for another org");
    let mut e = event("0192f0c4-8a4e-7cc3-9b1a-0000000000ab", json!({ "type": "page_view" }));
    e["organizationId"] = json!(beta_org);
    let r = post(&app, &acme.publishable, Some(SHOP), batch(vec![e])).await;
    assert_eq!(r.status, 403, "event for another org");
    // A secret key used from a page, an unknown key.
    let r = post(&app, &acme.secret, Some(SHOP), one()).await;
    assert_eq!(r.status, 403);
    let r = post(&app, "crow_pk_unknown", Some(SHOP), one()).await;
    assert_eq!(r.status, 401);
    // 10,000 properties or a 1 MB string: that event is rejected with its reason, not the batch.
    let props: serde_json::Map<String, Value> = (0..10_000).map(|i| (format!("p{i}"), json!(i))).collect();
    let huge = event("0192f0c4-8a4e-7cc3-9b1a-0000000000bb", json!({ "type": "custom", "name": "x", "props": props }));
    let long = event("0192f0c4-8a4e-7cc3-9b1a-0000000000cc", json!({ "type": "click", "path": "x".repeat(300_000) }));
    let ok = event("0192f0c4-8a4e-7cc3-9b1a-0000000000dd", json!({ "type": "page_view" }));
    let r = post(&app, &acme.publishable, Some(SHOP), batch(vec![huge, long, ok])).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let receipt: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(receipt["accepted"], 1);
    let fields: Vec<&str> =
        receipt["rejected"].as_array().unwrap().iter().map(|r| r["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["props", "path"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_never_see_each_others_interactions() {
    let app = start(&[]).await;
    let acme = shop(&app, "ada@acme.io", "acme").await;
    let beta = shop(&app, "bob@beta.io", "beta").await;
    let r = post(
        &app,
        &acme.publishable,
        Some(SHOP),
        batch(vec![event("0192f0c4-8a4e-7cc3-9b1a-0000000000ee", json!({ "type": "page_view" }))]),
    )
    .await;
    assert_eq!(r.status, 202);
    let page = wait_for(&acme.owner, 1).await;
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(interactions(&beta.owner).await["items"].as_array().unwrap().is_empty());
    let r = beta.owner.raw(HttpMethod::GET, &format!("/api/v1/interactions/{id}"), None, Vec::new()).await.unwrap();
    assert_eq!(r.status, 404);
    // Publishable keys send events; they read nothing.
    let r = app
        .client()
        .with_api_key(acme.publishable.clone())
        .raw(HttpMethod::GET, "/api/v1/interactions", None, Vec::new())
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    app.stop().await;
}
