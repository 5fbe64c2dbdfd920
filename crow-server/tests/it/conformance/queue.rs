//! Queue conformance: at-least-once delivery, leases, retry with backoff, dead-lettering.
//! Real time with short durations, so broker-backed queues (NATS) can run the same suite.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crow_core::ports::queue::{NackOutcome, Queue, QueueError, RetryPolicy};

pub type Q = Arc<dyn Queue>;

pub fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_backoff: Duration::from_millis(300),
        max_backoff: Duration::from_secs(2),
        visibility_timeout: Duration::from_secs(30),
    }
}

fn msgs(prefix: &str, n: usize) -> Vec<Bytes> {
    (0..n).map(|i| Bytes::from(format!("{prefix}-{i}"))).collect()
}

pub async fn delivers_in_order_and_ack_removes(q: Q) {
    q.publish("t", &msgs("m", 3)).await.unwrap();
    assert_eq!(q.pending("t").await.unwrap(), 3);
    let got = q.receive("t", 10, Duration::ZERO).await.unwrap();
    let bodies: Vec<_> = got.iter().map(|d| d.payload.clone()).collect();
    assert_eq!(bodies, msgs("m", 3));
    assert!(got.iter().all(|d| d.attempt == 1 && d.topic == "t"));
    // Leased messages are invisible to other receivers.
    assert!(q.receive("t", 10, Duration::ZERO).await.unwrap().is_empty());
    for d in &got {
        q.ack(d).await.unwrap();
    }
    assert_eq!(q.pending("t").await.unwrap(), 0);
    assert!(q.receive("t", 10, Duration::from_millis(300)).await.unwrap().is_empty());
}

pub async fn unacked_lease_expires_and_redelivers(q: Q) {
    q.publish("t", &msgs("lease", 1)).await.unwrap();
    let first = q.receive("t", 1, Duration::ZERO).await.unwrap().remove(0);
    // The consumer "crashes": no ack. After the lease the message comes back.
    let second = q.receive("t", 1, Duration::from_secs(5)).await.unwrap().remove(0);
    assert_eq!(second.payload, first.payload);
    assert_eq!(second.attempt, 2);
    // The first consumer's late ack must not delete the message now leased to the second.
    assert!(matches!(q.ack(&first).await, Err(QueueError::StaleReceipt)));
    q.ack(&second).await.unwrap();
    assert_eq!(q.pending("t").await.unwrap(), 0);
}

pub async fn nack_retries_after_backoff(q: Q) {
    q.publish("t", &msgs("retry", 1)).await.unwrap();
    let d = q.receive("t", 1, Duration::ZERO).await.unwrap().remove(0);
    let nacked_at = Instant::now();
    assert!(matches!(q.nack(&d, "transient").await.unwrap(), NackOutcome::RetryAt(_)));
    assert!(q.receive("t", 1, Duration::ZERO).await.unwrap().is_empty(), "not before the backoff");
    let again = q.receive("t", 1, Duration::from_secs(5)).await.unwrap().remove(0);
    assert!(nacked_at.elapsed() >= Duration::from_millis(250), "backoff honoured: {:?}", nacked_at.elapsed());
    assert_eq!(again.attempt, 2);
    assert_eq!(again.payload, d.payload);
    q.ack(&again).await.unwrap();
}

pub async fn dead_letters_after_max_attempts(q: Q) {
    q.publish("t", &msgs("poison", 1)).await.unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let d = q.receive("t", 1, Duration::from_secs(5)).await.unwrap().remove(0);
        outcomes.push(q.nack(&d, &format!("failure {}", d.attempt)).await.unwrap());
    }
    assert!(matches!(outcomes[0], NackOutcome::RetryAt(_)));
    assert!(matches!(outcomes[1], NackOutcome::RetryAt(_)));
    assert_eq!(outcomes[2], NackOutcome::DeadLettered);
    assert_eq!(q.pending("t").await.unwrap(), 0);
    assert!(q.receive("t", 1, Duration::from_millis(500)).await.unwrap().is_empty());
    let dead = q.dead_letters("t", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].payload, Bytes::from("poison-0"));
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error, "failure 3");
}

pub async fn topics_are_isolated(q: Q) {
    q.publish("a", &msgs("a", 2)).await.unwrap();
    q.publish("b", &msgs("b", 1)).await.unwrap();
    let b = q.receive("b", 10, Duration::ZERO).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].payload, Bytes::from("b-0"));
    assert_eq!(q.pending("a").await.unwrap(), 2);
}

pub async fn concurrent_consumers_each_get_a_message_once(q: Q) {
    let total = 600;
    q.publish("t", &msgs("c", total)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = Arc::clone(&q);
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let batch = q.receive("t", 25, Duration::from_millis(200)).await.unwrap();
                if batch.is_empty() {
                    return seen;
                }
                for d in batch {
                    q.ack(&d).await.unwrap();
                    seen.push(d.payload);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), total, "no message delivered twice while its lease held");
    assert_eq!(unique.len(), total, "every message delivered");
}

pub async fn waiting_receive_wakes_on_publish(q: Q) {
    let waiter = {
        let q = Arc::clone(&q);
        tokio::spawn(async move {
            let started = Instant::now();
            let got = q.receive("t", 1, Duration::from_secs(10)).await.unwrap();
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    q.publish("t", &msgs("wake", 1)).await.unwrap();
    let (got, waited) = waiter.await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(waited < Duration::from_secs(5), "woke on publish, not at the deadline: {waited:?}");
}

pub async fn ack_many_settles_a_batch_and_refuses_stale_receipts_one_by_one(q: Q) {
    q.publish("t", &msgs("many", 3)).await.unwrap();
    let got = q.receive("t", 10, Duration::ZERO).await.unwrap();
    // Acking one first makes its receipt stale for the batch ack.
    q.ack(&got[1]).await.unwrap();
    let results = q.ack_many(&got).await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(QueueError::StaleReceipt)));
    assert_eq!(q.pending("t").await.unwrap(), 0);
    assert!(q.ack_many(&[]).await.is_empty());
}

pub async fn empty_publish_is_a_no_op(q: Q) {
    q.publish("t", &[]).await.unwrap();
    assert_eq!(q.pending("t").await.unwrap(), 0);
}

/// Instantiates the queue suite for one backend. `$make(policy)` returns `(Arc<dyn Queue>, guard)`.
macro_rules! queue_conformance {
    ($backend:ident, $make:ident) => {
        mod $backend {
            use super::queue as suite;
            use std::time::Duration;

            #[tokio::test]
            async fn delivers_in_order_and_ack_removes() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::delivers_in_order_and_ack_removes(q).await;
            }
            #[tokio::test]
            async fn unacked_lease_expires_and_redelivers() {
                let policy = crow_core::ports::queue::RetryPolicy {
                    visibility_timeout: Duration::from_millis(400),
                    ..suite::policy()
                };
                let (q, _g) = super::$make(policy).await;
                suite::unacked_lease_expires_and_redelivers(q).await;
            }
            #[tokio::test]
            async fn nack_retries_after_backoff() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::nack_retries_after_backoff(q).await;
            }
            #[tokio::test]
            async fn dead_letters_after_max_attempts() {
                let policy =
                    crow_core::ports::queue::RetryPolicy { base_backoff: Duration::from_millis(20), ..suite::policy() };
                let (q, _g) = super::$make(policy).await;
                suite::dead_letters_after_max_attempts(q).await;
            }
            #[tokio::test]
            async fn topics_are_isolated() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::topics_are_isolated(q).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_consumers_each_get_a_message_once() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::concurrent_consumers_each_get_a_message_once(q).await;
            }
            #[tokio::test]
            async fn waiting_receive_wakes_on_publish() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::waiting_receive_wakes_on_publish(q).await;
            }
            #[tokio::test]
            async fn ack_many_settles_a_batch_and_refuses_stale_receipts_one_by_one() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::ack_many_settles_a_batch_and_refuses_stale_receipts_one_by_one(q).await;
            }
            #[tokio::test]
            async fn empty_publish_is_a_no_op() {
                let (q, _g) = super::$make(suite::policy()).await;
                suite::empty_publish_is_a_no_op(q).await;
            }
        }
    };
}
