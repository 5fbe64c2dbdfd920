//! The tracker in a real browser: headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `crow-web-sdk/js`) shops on the demo store, which embeds the tracker
//! served by crow-server; the test then reads what arrived through the interaction API.
//! `scripts/test.sh` installs Chromium, the npm packages and builds the tracker.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crow_client::{Client, HttpMethod};
use crow_core::domain::{Bucket, CountBy, InteractionKind, InteractionQuery};
use crow_server::Server;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::{ORIGIN, server_at};

fn tools() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crow-web-sdk/js");
    assert!(
        dir.join("node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "Chromium or playwright-core missing: run `bash scripts/test.sh` (it installs both)"
    );
    dir
}

/// crow-server on a fixed port (so it can be restarted where the page expects it).
async fn crow(dir: &Path, port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    server_at(dir, &[], &[("CROW_LISTEN", listen.as_str())]).await
}

struct Shop {
    owner: Client,
    store: String,
    _store_task: tokio::task::JoinHandle<()>,
}

/// A tenant and the demo store, whose origin the tenant allows, embedding its publishable key.
async fn shop(crow_url: &str, email: &str) -> Shop {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let store = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let crow_demo_store::setup::Shop { key, owner } =
        crow_demo_store::setup::shop(crow_url, ORIGIN, email, "correct horse battery", &store).await.unwrap();
    let tracker = crow_demo_store::Tracker { crow_url: crow_url.to_owned(), key };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, crow_demo_store::router(tracker)).await;
    });
    Shop { owner, store, _store_task: task }
}

/// Runs a shopper scenario. `control` answers the script's `CONTROL stop|start` requests.
async fn shopper<F, Fut>(scenario: &str, store: &str, mut control: F) -> Vec<Value>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut child = tokio::process::Command::new("node")
        .arg("shopper.mjs")
        .arg(scenario)
        .arg(store)
        .current_dir(tools())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut results = Vec::new();
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(cmd) = line.strip_prefix("CONTROL ") {
                control(cmd.to_owned()).await;
                stdin.write_all(b"ok\n").await.unwrap();
            } else if let Some(json) = line.strip_prefix("RESULT ") {
                results.push(serde_json::from_str(json).unwrap());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(240), run).await.expect("the shopper finished in time");
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "shopper {scenario} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    results
}

/// Every interaction of the owner's organization (through the typed client, page by page).
async fn all_interactions(owner: &Client) -> Vec<Value> {
    let mut items = Vec::new();
    let mut query = InteractionQuery { limit: Some(200), ..Default::default() };
    loop {
        let page = owner.interactions(&query).await.unwrap();
        items.extend(page.items.iter().map(|i| serde_json::to_value(i).unwrap()));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return items,
        }
    }
}

/// Waits until every event the browser was seen sending is stored, then checks that none is
/// stored twice. (Requests made while a page unloads may escape the test's interception, so
/// the stored set may be larger than the seen one, never smaller.)
async fn exactly_once(owner: &Client, sent: &Value) -> Vec<Value> {
    let ids: BTreeSet<String> =
        sent["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    assert!(!ids.is_empty());
    let mut stored = Vec::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..200 {
        stored = all_interactions(owner).await;
        counts.clear();
        for i in &stored {
            *counts.entry(i["payload"]["id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        if ids.iter().all(|id| counts.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&String> = ids.iter().filter(|id| !counts.contains_key(*id)).collect();
    assert!(missing.is_empty(), "events the browser sent were never stored: {missing:?}");
    assert!(counts.values().all(|&n| n == 1), "an event was stored twice: {counts:?}");
    stored
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

fn product_ids(i: &Value) -> Vec<&str> {
    i["products"].as_array().unwrap().iter().filter_map(|p| p["externalId"].as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_in_chromium_is_tracked_end_to_end_and_privacy_is_honoured() {
    tools();
    let dir = tempfile::tempdir().unwrap();
    let server = server_at(dir.path(), &[], &[]).await;
    let crow_url = format!("http://localhost:{}", server.local_addr().port());
    let shop = shop(&crow_url, "owner@rogue.store").await;

    let results = shopper("shop", &shop.store, |_| async {}).await;
    let sent = &results[0];
    assert_eq!(sent["errors"], serde_json::json!([]), "the page saw an error or a CSP violation");
    assert_eq!(sent["hostile"], serde_json::json!(["ok", "ok"]), "an API call threw into the page");
    // Chromium asks for compressed files and loads the tracker from them.
    for file in ["crow.js", "crow_web_sdk.js", "crow_web_sdk_bg.wasm"] {
        let coding = sent["codings"][file].as_str().unwrap_or("not loaded");
        assert!(coding == "gzip" || coding == "br", "{file} came as {coding:?}: {sent}");
    }
    assert!(sent["requests"].as_u64().unwrap() >= 1);
    let stored = exactly_once(&shop.owner, sent).await;

    let views = of_kind(&stored, "page_view");
    assert!(views.len() >= 6, "catalogue, product, an SPA route, cart, checkout, thank-you");
    assert!(views.iter().any(|v| v["payload"]["url"].as_str().unwrap().ends_with("?tab=reviews")), "SPA route change");
    assert!(!of_kind(&stored, "engagement").is_empty(), "time on page, sent when a page is left");
    assert!(of_kind(&stored, "web_vital").iter().any(|v| v["payload"]["name"] == "CLS"), "web vitals");
    let viewed = of_kind(&stored, "product_view");
    assert!(viewed.iter().any(|i| product_ids(i) == ["mug-blue"]), "schema.org product view: {viewed:?}");
    let added = of_kind(&stored, "add_to_cart");
    assert_eq!(added.len(), 1);
    assert_eq!(product_ids(added[0]), ["mug-blue"]);
    assert_eq!(added[0]["payload"]["item"]["product"]["sku"], "RS-001");
    let clicks = of_kind(&stored, "click");
    assert!(clicks.iter().any(|c| product_ids(c) == ["mug-blue"]), "the add button's click names the product");
    let purchase = of_kind(&stored, "purchase");
    assert_eq!(purchase.len(), 1);
    assert_eq!(product_ids(purchase[0]), ["mug-blue"]);
    assert_eq!(purchase[0]["payload"]["value"], 14.5);
    assert_eq!(purchase[0]["payload"]["currency"], "EUR");
    assert_eq!(of_kind(&stored, "checkout_started").len(), 1);
    let scroll = of_kind(&stored, "scroll");
    assert!(scroll.iter().any(|s| s["payload"]["depthPct"].as_u64().unwrap() >= 75), "{scroll:?}");
    let noop = clicks.iter().find(|c| c["payload"]["path"] == "button#noop").expect("the no-op button's click");
    assert_eq!(noop["payload"]["text"], "Does nothing", "white space collapsed");
    let identified = of_kind(&stored, "identify");
    assert_eq!(identified.len(), 1);
    assert_eq!(identified[0]["payload"]["userId"], "customer-42");
    assert_eq!(purchase[0]["payload"]["userId"], "customer-42", "later events carry the shop's user id");
    let errors = of_kind(&stored, "js_error");
    let error = errors.iter().find(|e| e["payload"]["message"] == "e2e error").expect("the error event");
    assert_eq!(
        (error["payload"]["source"].as_str().map(|s| s.ends_with("/app.js")), &error["payload"]["line"]),
        (Some(true), &serde_json::json!(7))
    );
    let rejection = errors.iter().find(|e| e["payload"]["message"] == "e2e rejection").expect("the rejection");
    assert!(rejection["payload"].get("source").is_none() && rejection["payload"].get("line").is_none(), "{rejection}");
    let removed = of_kind(&stored, "remove_from_cart");
    assert_eq!(removed.len(), 1);
    assert_eq!(
        removed[0]["payload"]["item"],
        serde_json::json!({"product": {"externalId": "ghost-1", "sku": "GH-1"}, "quantity": 2, "price": 3.5})
    );
    let dead = of_kind(&stored, "dead_click");
    assert!(dead.iter().any(|d| d["payload"]["path"] == "button#noop"), "dead click: {dead:?}");
    assert!(
        viewed.iter().any(|v| v["payload"]["product"]["externalId"] == "late-lamp"),
        "JSON-LD rendered after an SPA route change is found on the rescan: {viewed:?}"
    );
    let rage = of_kind(&stored, "rage_click");
    assert_eq!(rage.len(), 1, "four clicks on the banner are one rage click");
    assert!(rage[0]["payload"]["path"].as_str().unwrap().contains("promo"));
    let forms = of_kind(&stored, "form_submit");
    assert_eq!(forms.len(), 1);
    // Named by its id attribute although a control named "id" (a cart form's variant id, say)
    // shadows the form's `id` property.
    assert_eq!(forms[0]["payload"]["form"], "#checkout-form");
    assert_eq!(forms[0]["payload"]["fieldCount"], 5);
    let custom = of_kind(&stored, "custom");
    let named = |name: &str| custom.iter().filter(|c| c["payload"]["name"] == name).collect::<Vec<_>>();
    assert_eq!(named("wishlist")[0]["payload"]["props"]["product"], "mug-blue");
    // Called through the page's stub before the loader ran: queued, replayed once.
    let early = named("before-loader");
    assert_eq!(early.len(), 1, "{custom:?}");
    assert_eq!(early[0]["payload"]["props"]["early"], true);
    // No field value left the page.
    let everything = serde_json::to_string(&stored).unwrap();
    assert!(!everything.contains("Ada Lovelace") && !everything.contains("ada@example.com"));
    // One cookieless session for the whole visit.
    let sessions: BTreeSet<&str> = stored.iter().filter_map(|i| i["sessionId"].as_str()).collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");

    // Linked to the product by the shop's id or SKU; counted by product per day.
    let by_sku = InteractionQuery {
        product: Some("RS-001".into()),
        kind: Some(InteractionKind::AddToCart),
        ..Default::default()
    };
    assert_eq!(shop.owner.interactions(&by_sku).await.unwrap().items.len(), 1);
    let views = InteractionQuery { kind: Some(InteractionKind::ProductView), ..Default::default() };
    let series = shop.owner.interaction_counts(&views, CountBy::Product, Some(Bucket::Day)).await.unwrap();
    assert_eq!(series[0].key, "mug-blue");
    assert!(series[0].start.is_some() && series[0].count >= 1);
    let r = shop.owner.raw(HttpMethod::GET, "/api/v1/interactions/counts?bucket=fortnight", None, Vec::new()).await;
    assert_eq!(r.unwrap().status, 400);

    // Do Not Track, Global Privacy Control, optOut(): nothing is sent.
    let before = all_interactions(&shop.owner).await.len();
    let results = shopper("privacy", &shop.store, |_| async {}).await;
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r["requests"], 0, "{r}");
        assert_eq!(r["queued"], 0, "{r}");
        assert_eq!(r["errors"], serde_json::json!([]), "{r}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = all_interactions(&shop.owner).await;
    // Only the opt-out visitor's first page view (before optOut) may have arrived.
    assert!(after.len() - before <= 2, "{} new interactions", after.len() - before);
    assert!(!serde_json::to_string(&after).unwrap().contains("should-not-arrive"));

    // Do Not Track with the site's consent: tracked, and the page view the signal held back is
    // recorded once consent arrives.
    let results = shopper("consent", &shop.store, |_| async {}).await;
    assert!(results[0]["requests"].as_u64().unwrap() >= 1, "{}", results[0]);
    assert_eq!(results[0]["errors"], serde_json::json!([]));
    let consented = all_interactions(&shop.owner).await;
    let custom = of_kind(&consented, "custom");
    let session =
        custom.iter().find(|c| c["payload"]["name"] == "consented").expect("the consented event")["sessionId"].clone();
    let views = of_kind(&consented, "page_view");
    assert!(
        views.iter().any(
            |v| v["sessionId"] == session && v["payload"]["url"].as_str().unwrap().ends_with("/products/lamp-desk")
        )
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_captured_while_the_server_is_down_arrive_exactly_once_after_it_returns() {
    tools();
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let first = crow(dir.path(), port).await;
    let crow_url = format!("http://localhost:{port}");
    let shop = shop(&crow_url, "outage@rogue.store").await;

    let server = tokio::sync::Mutex::new(Some(first));
    let results = shopper("outage", &shop.store, |cmd| {
        let server = &server;
        let dir = dir.path().to_owned();
        async move {
            let mut slot = server.lock().await;
            match cmd.as_str() {
                "stop" => slot.take().unwrap().stop().await,
                "start" => *slot = Some(crow(&dir, port).await),
                other => panic!("unknown control {other}"),
            }
        }
    })
    .await;
    let sent = &results[0];
    assert_eq!(sent["errors"], serde_json::json!([]), "the page saw an error or a CSP violation");
    assert!(
        sent["sends"].as_u64().unwrap() > sent["ids"].as_array().unwrap().len() as u64,
        "some events were sent more than once (failed sends retried): {sent}"
    );
    let stored = exactly_once(&shop.owner, sent).await;
    let mut added: Vec<Vec<&str>> = of_kind(&stored, "add_to_cart").iter().map(|i| product_ids(i)).collect();
    added.sort();
    assert_eq!(added, [["kettle-steel"], ["tote-canvas"]], "both carts, one captured offline and across a reload");
    assert!(of_kind(&stored, "custom").iter().any(|c| c["payload"]["name"] == "during-outage"));
    server.lock().await.take().unwrap().stop().await;
}
