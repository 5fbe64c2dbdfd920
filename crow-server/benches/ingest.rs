//! Web ingest through the gateway: tracker batches of 20 events with a publishable key, posted by
//! concurrent clients on loopback for a fixed time. Prints events/s accepted, events/s persisted
//! (accepted until the interaction service has stored them all), p50/p99 request latency, and the
//! raw SQLite insert limit for the same number of rows in batches of 20, measured in the same run.
//! Then a second phase offers 20,000 events/s open-loop (below saturation) and reports p50/p99.
//! Target: ≥ 20,000 events/s with p99 ≤ 50 ms below saturation.
//!
//! Run: `cargo bench -p crow-server --bench ingest`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "benchmark binary: fails loudly and prints its figures"
)]

mod support;

use std::time::{Duration, Instant};

use crow_client::{Client, HttpMethod};
use crow_core::api::auth::CreateApiKey;
use crow_core::domain::ApiKeyKind;
use serde_json::{Value, json};

const SHOP: &str = "https://shop.bench.io";
const BATCH: usize = 20;
const CLIENTS: usize = 16;
const DURATION: Duration = Duration::from_secs(8);
/// Offered load of the below-saturation phase, events/s.
const PACED_RATE: f64 = 20_000.0;
const PACED_CLIENTS: usize = 50;

fn batch(session: usize) -> Vec<u8> {
    let now = crow_core::Timestamp::now().as_millis();
    let events: Vec<Value> = (0..BATCH)
        .map(|i| {
            json!({
                "id": uuid::Uuid::now_v7(),
                "ts": now,
                "sessionId": format!("s{session}"),
                "url": "https://shop.bench.io/p/mug",
                "type": if i % 5 == 0 { "add_to_cart" } else { "page_view" },
                "item": { "product": { "externalId": "mug" }, "quantity": 1 },
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "v": 1, "sentAt": now, "events": events })).unwrap()
}

async fn stored(owner: &Client) -> u64 {
    let r = owner.raw(HttpMethod::GET, "/api/v1/interactions/counts", None, Vec::new()).await.unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["byKind"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

fn raw_sqlite_limit(rows: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;").unwrap();
    conn.execute_batch(include_str!("../migrations/0001_foundation.sql")).unwrap();
    let org = uuid::Uuid::now_v7();
    conn.execute(
        "INSERT INTO organizations (id, auth_id, name, slug, created_at, updated_at) VALUES (?1, 'a', 'n', 's', 0, 0)",
        rusqlite::params![org.as_bytes().as_slice()],
    )
    .unwrap();
    let payload = String::from_utf8(batch(0)).unwrap();
    let started = Instant::now();
    let mut conn = conn;
    for _ in 0..rows / BATCH {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO interactions (id, organization_id, channel, kind, occurred_at, received_at, session_id, \
                     products, confidence, tags, payload) VALUES (?1, ?2, 'web', 'page_view', 0, 0, 's', '[]', NULL, '[]', ?3)",
                )
                .unwrap();
            for _ in 0..BATCH {
                stmt.execute(rusqlite::params![
                    uuid::Uuid::now_v7().as_bytes().as_slice(),
                    org.as_bytes().as_slice(),
                    &payload[..200]
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    (rows / BATCH * BATCH) as f64 / started.elapsed().as_secs_f64()
}

/// Runs `clients` senders for [`DURATION`]: back to back, or each every `pace`. Returns events
/// accepted and every request's latency.
async fn run(tracker: &Client, clients: usize, pace: Option<Duration>, session_base: usize) -> (u64, Vec<Duration>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let tracker = tracker.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut accepted = 0u64;
            let mut n = 0;
            let mut ticks = pace.map(|p| {
                // Senders start spread over one interval, not all at once.
                let first = tokio::time::Instant::now() + p.mul_f64(c as f64 / clients as f64);
                tokio::time::interval_at(first, p)
            });
            while started.elapsed() < DURATION {
                if let Some(t) = ticks.as_mut() {
                    t.tick().await;
                }
                let body = batch(session_base + c * 1_000_000 + n);
                n += 1;
                let t = Instant::now();
                let r = tracker
                    .raw(HttpMethod::POST, "/api/v1/ingest/events", Some("application/json"), body)
                    .await
                    .unwrap();
                latencies.push(t.elapsed());
                if r.status == 202 {
                    accepted += BATCH as u64;
                }
            }
            (accepted, latencies)
        }));
    }
    let mut accepted = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (a, l) = t.await.unwrap();
        accepted += a;
        latencies.extend(l);
    }
    (accepted, latencies)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (running, _) = support::start(&[
            ("CROW_GATEWAY_RATE_PER_MINUTE", "100000000"),
            ("CROW_GATEWAY_RATE_BURST", "10000000"),
        ])
        .await;
        let base = running.base.clone();
        let token = Client::new(&base)
            .unwrap()
            .with_origin("http://localhost:3000")
            .sign_up("B", "bench@acme.io", "correct horse battery")
            .await
            .unwrap()
            .token;
        let owner = Client::new(&base).unwrap().with_origin("http://localhost:3000").with_session(token);
        let org = owner.create_organization("Bench", "bench").await.unwrap().organization.id;
        while owner.update_organization(org, json!({ "allowedOrigins": [SHOP] })).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let key = owner
            .create_api_key(&CreateApiKey { kind: Some(ApiKeyKind::Publishable), ..Default::default() })
            .await
            .unwrap()
            .key;
        let tracker = Client::new(&base).unwrap().with_api_key(key).with_origin(SHOP);

        // Phase 1, saturation: every client sends its next batch as soon as the last is answered.
        let started = Instant::now();
        let (accepted, mut latencies) = run(&tracker, CLIENTS, None, 0).await;
        let load = started.elapsed();
        latencies.sort();
        let pct = |p: f64| support::percentile_ms(&latencies, p);
        let mut persisted = stored(&owner).await;
        while persisted < accepted && started.elapsed() < load + Duration::from_secs(120) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            persisted = stored(&owner).await;
        }
        let all_stored = started.elapsed();
        let raw = raw_sqlite_limit(accepted.max(20_000) as usize);
        println!("\ningest through the gateway ({CLIENTS} clients, batches of {BATCH}, {:?}, loopback)", DURATION);
        println!(
            "accepted:  {:>9.0} events/s  ({accepted} events, {} requests)",
            accepted as f64 / load.as_secs_f64(),
            latencies.len()
        );
        println!(
            "persisted: {:>9.0} events/s  ({persisted} stored {:.1} s after the load began)",
            persisted as f64 / all_stored.as_secs_f64(),
            all_stored.as_secs_f64()
        );
        println!("latency at saturation:   p50 {:.1} ms, p99 {:.1} ms", pct(0.5), pct(0.99));
        println!("raw SQLite insert limit (same schema, batches of {BATCH}): {raw:.0} rows/s");
        // Phase 2, below saturation: an open-loop offered load of 20,000 events/s (the target
        // rate), PACED_CLIENTS senders each on a fixed schedule, latencies of every request.
        let before = stored(&owner).await;
        let paced_start = Instant::now();
        let interval = Duration::from_secs_f64(PACED_CLIENTS as f64 * BATCH as f64 / PACED_RATE);
        let (paced_accepted, mut paced) = run(&tracker, PACED_CLIENTS, Some(interval), 10_000_000).await;
        let paced_load = paced_start.elapsed();
        paced.sort();
        let ppct = |p: f64| support::percentile_ms(&paced, p);
        let mut now_stored = stored(&owner).await;
        while now_stored < before + paced_accepted && paced_start.elapsed() < paced_load + Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            now_stored = stored(&owner).await;
        }
        println!(
            "paced at {PACED_RATE:.0} events/s offered: {:.0} events/s accepted, all {} stored; p50 {:.1} ms, p99 {:.1} ms",
            paced_accepted as f64 / paced_load.as_secs_f64(),
            now_stored - before,
            ppct(0.5),
            ppct(0.99)
        );
        let capacity = persisted as f64 / all_stored.as_secs_f64();
        let verdict = if capacity >= 20_000.0 && ppct(0.99) <= 50.0 { "met" } else { "MISSED" };
        println!(
            "target: >= 20,000 events/s persisted ({capacity:.0}) with p99 <= 50 ms below saturation ({:.1} ms at 20,000/s): {verdict}",
            ppct(0.99)
        );
        running.server.stop().await;
    });
}
