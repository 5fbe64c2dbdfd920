//! The consumer runtime: ack on success, retry on failure, clean stop on shutdown.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use crow_core::ports::clock::SystemClock;
use crow_core::ports::queue::{Delivery, Queue, RetryPolicy};
use crow_server::backends::sqlite::{SqliteDatabase, SqliteQueue};
use crow_server::runtime::{Consumers, Handler};
use tokio_util::sync::CancellationToken;

/// Fails the first delivery of every message, then records it.
struct Flaky {
    calls: AtomicU32,
    handled: Mutex<Vec<(Bytes, u32)>>,
    delay: Duration,
}

#[async_trait]
impl Handler for Flaky {
    fn topic(&self) -> &'static str {
        "jobs"
    }
    async fn handle(&self, delivery: &Delivery) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if delivery.attempt == 1 {
            return Err("first attempt always fails".into());
        }
        self.handled.lock().unwrap().push((delivery.payload.clone(), delivery.attempt));
        Ok(())
    }
}

async fn setup() -> (Arc<dyn Queue>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let policy = RetryPolicy { base_backoff: Duration::from_millis(50), ..RetryPolicy::default() };
    (Arc::new(SqliteQueue::new(db.pool().clone(), Arc::new(SystemClock), policy)), dir)
}

#[tokio::test]
async fn failed_messages_are_retried_then_acked() {
    let (queue, _dir) = setup().await;
    let handler = Arc::new(Flaky { calls: AtomicU32::new(0), handled: Mutex::new(Vec::new()), delay: Duration::ZERO });
    queue.publish("jobs", &[Bytes::from("a"), Bytes::from("b")]).await.unwrap();
    let token = CancellationToken::new();
    let mut consumers = Consumers::default();
    consumers.spawn(Arc::clone(&queue), handler.clone(), token.clone());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.pending("jobs").await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "messages were not settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    token.cancel();
    consumers.join().await;
    let mut handled = handler.handled.lock().unwrap().clone();
    handled.sort();
    assert_eq!(handled, vec![(Bytes::from("a"), 2), (Bytes::from("b"), 2)]);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn shutdown_finishes_the_batch_in_hand() {
    let (queue, _dir) = setup().await;
    // Every handling takes a while; shutdown arrives mid-batch.
    let handler = Arc::new(Flaky {
        calls: AtomicU32::new(0),
        handled: Mutex::new(Vec::new()),
        delay: Duration::from_millis(100),
    });
    let payloads: Vec<Bytes> = (0..5).map(|i| Bytes::from(format!("m{i}"))).collect();
    queue.publish("jobs", &payloads).await.unwrap();
    let token = CancellationToken::new();
    let mut consumers = Consumers::default();
    consumers.spawn(Arc::clone(&queue), handler.clone(), token.clone());
    while handler.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    token.cancel();
    tokio::time::timeout(Duration::from_secs(5), consumers.join()).await.expect("consumers stop promptly");
    // Every message of the first batch was settled (nacked for retry), none is stuck leased.
    assert_eq!(handler.calls.load(Ordering::SeqCst), 5);
    tokio::time::sleep(Duration::from_millis(300)).await; // past every 50 ms backoff
    let retried = queue.receive("jobs", 10, Duration::ZERO).await.unwrap();
    assert_eq!(retried.len(), 5, "all five are retried after restart");
    assert!(retried.iter().all(|d| d.attempt == 2));
}

#[tokio::test]
async fn the_interaction_consumer_writes_per_organization_and_isolates_failures() {
    use crow_core::domain::{InteractionBatch, InteractionKind, InteractionQuery};
    use crow_core::id::OrganizationId;
    use crow_core::ports::store::{InteractionStore, OrganizationStore};
    use crow_server::backends::sqlite::{SqliteInteractionStore, SqliteOrganizationStore, SqliteWebSessionStore};
    use crow_server::services::interactions::Consumer;

    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let org =
        SqliteOrganizationStore::new(db.pool().clone()).create(&crate::fixtures::organization("Shop")).await.unwrap();
    let store = Arc::new(SqliteInteractionStore::new(db.pool().clone(), Arc::new(SystemClock)));
    let queue: Arc<dyn Queue> =
        Arc::new(SqliteQueue::new(db.pool().clone(), Arc::new(SystemClock), RetryPolicy::default()));
    let message = |org, n: i64| {
        let items =
            (0..3).map(|i| crate::fixtures::interaction(n * 10 + i, InteractionKind::Purchase, "s", None)).collect();
        Bytes::from(serde_json::to_vec(&InteractionBatch { organization_id: org, interactions: items }).unwrap())
    };
    // Two good messages, one for an organization that does not exist, one malformed.
    let ghost = OrganizationId::new();
    queue
        .publish(
            "interactions",
            &[message(org.id, 1), message(ghost, 2), message(org.id, 3), Bytes::from_static(b"{oops")],
        )
        .await
        .unwrap();
    let token = CancellationToken::new();
    let mut consumers = Consumers::default();
    consumers.spawn(
        Arc::clone(&queue),
        Arc::new(Consumer::new(store.clone(), Arc::new(SqliteWebSessionStore::new(db.pool().clone())))),
        token.clone(),
    );
    let pass = crate::fixtures::pass_for(org.id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = store.list(&pass, &InteractionQuery::default()).await.unwrap().items;
        if stored.len() == 6 {
            assert!(stored.iter().all(|i| i.analysis.as_ref().is_some_and(|a| a.model == "rules-v1")), "analysed");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "good messages were not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    token.cancel();
    consumers.join().await;
    // The two bad messages wait for a retry; the good ones are gone from the queue.
    assert_eq!(queue.pending("interactions").await.unwrap(), 2);
}
