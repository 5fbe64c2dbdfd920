//! Auth performance, two figures:
//!
//! 1. JWT verification per second on one core with a cached JWKS, beside the raw Ed25519
//!    signature check measured in the same run (the floor no verifier can beat). Target:
//!    ≥ 20,000 verifications/s per core.
//! 2. Sign-in latency through the real HTTP server on loopback: capacity is measured first
//!    (hashes/s with the configured concurrency), then an open-loop load at ½× capacity reports
//!    p50/p99, and at 2× capacity reports how many are refused (503 + Retry-After), how fast
//!    refusals come back, and the p99 of accepted sign-ins (bounded by the wait queue).
//!
//! Run: `cargo bench -p crow-server --bench auth`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "benchmark binary: fails loudly and prints its figures"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, Throughput};
use crow_core::Timestamp;
use crow_server::jwt::{Audience, Claims, Jwk, Jwks, JwksSource, Verifier, sign};
use ed25519_dalek::{Signature, SigningKey};

struct Fixed(Jwks);

#[async_trait]
impl JwksSource for Fixed {
    async fn fetch(&self) -> Result<Jwks, String> {
        Ok(self.0.clone())
    }
}

fn claims(now_s: i64) -> Claims {
    Claims {
        iss: "https://api.crow.test".into(),
        aud: Audience::One("https://api.crow.test".into()),
        sub: "01a204ba-5edb-7561-8f22-33aba528860f".into(),
        exp: now_s + 900,
        nbf: now_s,
        iat: now_s,
        email: Some("ada@acme.io".into()),
        organization_id: Some("01a204ba-5efd-76b9-bf6f-4cc719a12c18".into()),
        role: Some("owner".into()),
    }
}

fn jwt_benches(c: &mut Criterion) -> (f64, f64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let verifier = Verifier::new(
        Arc::new(Fixed(Jwks { keys: vec![Jwk::ed25519("k1", &key.verifying_key())] })),
        "https://api.crow.test",
        "https://api.crow.test",
    );
    let now = Timestamp::now();
    let token = sign(&key, "k1", &claims(now.as_millis() / 1000)).unwrap();
    rt.block_on(verifier.verify(&token, now)).unwrap(); // warm the JWKS cache
    let mut group = c.benchmark_group("jwt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify (cached JWKS)", |b| b.iter(|| rt.block_on(verifier.verify(&token, now)).unwrap()));
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let sig: [u8; 64] = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).unwrap().try_into().unwrap();
    let sig = Signature::from_bytes(&sig);
    let vk = key.verifying_key();
    group.bench_function("raw Ed25519 verify_strict", |b| {
        b.iter(|| vk.verify_strict(signing_input.as_bytes(), &sig).unwrap())
    });
    group.finish();

    // Plain timing for the summary line.
    let rate = |f: &mut dyn FnMut()| {
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        f64::from(n) / t.elapsed().as_secs_f64()
    };
    let full = rate(&mut || {
        rt.block_on(verifier.verify(&token, now)).unwrap();
    });
    let raw = rate(&mut || vk.verify_strict(signing_input.as_bytes(), &sig).unwrap());
    (full, raw)
}

struct LoadResult {
    ok: Vec<Duration>,
    refused: Vec<Duration>,
    other: usize,
}

async fn open_loop(client: &crow_client::Client, per_second: f64, seconds: f64) -> LoadResult {
    let total = (per_second * seconds) as usize;
    let gap = Duration::from_secs_f64(1.0 / per_second);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + gap * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client.sign_in("bench@acme.io", "correct horse battery").await;
            (r.map(|_| ()).map_err(|e| e.status()), t.elapsed())
        }));
    }
    let mut out = LoadResult { ok: Vec::new(), refused: Vec::new(), other: 0 };
    for t in tasks {
        match t.await.unwrap() {
            (Ok(()), d) => out.ok.push(d),
            (Err(Some(503)), d) => out.refused.push(d),
            _ => out.other += 1,
        }
    }
    out.ok.sort();
    out.refused.sort();
    out
}

fn sign_in_load() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (running, config) =
            support::start(&[("CROW_AUTH_RATE_PER_MINUTE", "10000000"), ("CROW_AUTH_RATE_BURST", "1000000")]).await;
        let concurrency = config.auth.hash_concurrency;
        let queue = config.auth.hash_queue;
        let client = crow_client::Client::new(&running.base).unwrap();
        client.sign_up("Bench", "bench@acme.io", "correct horse battery").await.unwrap();

        // Capacity: closed loop with exactly `concurrency` sign-ins in flight.
        let n = 40usize;
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..n / concurrency.max(1) {
                    client.sign_in("bench@acme.io", "correct horse battery").await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let capacity = (n / concurrency.max(1) * concurrency) as f64 / t.elapsed().as_secs_f64();

        let half = open_loop(&client, capacity * 0.5, 6.0).await;
        let double = open_loop(&client, capacity * 2.0, 6.0).await;
        println!(
            "\nsign-in under load (loopback, argon2id m=19 MiB t=2 p=1, {concurrency} hashing slots, queue {queue})"
        );
        println!("capacity measured: {capacity:.1} sign-ins/s");
        println!(
            "0.5x ({:.1}/s): accepted {:>4}  p50 {:>7.1} ms  p99 {:>7.1} ms  refused {}  other {}",
            capacity * 0.5,
            half.ok.len(),
            support::percentile_ms(&half.ok, 0.5),
            support::percentile_ms(&half.ok, 0.99),
            half.refused.len(),
            half.other
        );
        println!(
            "2x   ({:.1}/s): accepted {:>4}  p50 {:>7.1} ms  p99 {:>7.1} ms  refused {} (503, p99 {:.1} ms)  other {}",
            capacity * 2.0,
            double.ok.len(),
            support::percentile_ms(&double.ok, 0.5),
            support::percentile_ms(&double.ok, 0.99),
            double.refused.len(),
            support::percentile_ms(&double.refused, 0.99),
            double.other
        );
        running.server.stop().await;
    });
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let (full, raw) = jwt_benches(&mut c);
    c.final_summary();
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let verdict = if full >= 20_000.0 { "met" } else { "MISSED" };
    println!(
        "\nJWT verification on one core: {full:.0}/s (raw Ed25519 verify_strict: {raw:.0}/s, {:.0} %); target ≥ 20,000/s: {verdict}",
        full / raw * 100.0
    );
    sign_in_load();
}
