//! Web sessions close after 30 idle minutes with a summary on the interaction queue.

use std::sync::Arc;
use std::time::Duration;

use crow_core::Timestamp;
use crow_core::domain::{InteractionBatch, InteractionKind};
use crow_core::ports::clock::{Clock, ManualClock};
use crow_core::ports::queue::{Queue, RetryPolicy, topics};
use crow_core::ports::store::{OrganizationStore, SessionActivity, WebSessionStore};
use crow_server::backends::sqlite::{SqliteDatabase, SqliteOrganizationStore, SqliteQueue, SqliteWebSessionStore};
use crow_server::services::ingest::sessions::sweep;

use crate::fixtures::{organization, pass_for};

const MIN: i64 = 60_000;

fn act(session: &str, at: Timestamp, url: &str, kind: InteractionKind, cart: i64) -> SessionActivity {
    SessionActivity { session_id: session.into(), at, url: url.into(), kind, cart_delta: cart }
}

#[tokio::test]
async fn idle_sessions_are_summarised_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_800_000_000_000)));
    let orgs = SqliteOrganizationStore::new(db.pool().clone());
    let org = orgs.create(&organization("Shop")).await.unwrap();
    let sessions = SqliteWebSessionStore::new(db.pool().clone());
    let queue = SqliteQueue::new(db.pool().clone(), clock.clone(), RetryPolicy::default());
    let pass = pass_for(org.id);
    let t0 = clock.now();
    // Two batches for one session (one arriving out of order), one for another.
    sessions
        .record(
            &pass,
            &[
                act("s1", t0, "https://shop/", InteractionKind::PageView, 0),
                act("s1", t0.add_millis(2 * MIN), "https://shop/p/mug", InteractionKind::AddToCart, 2),
            ],
        )
        .await
        .unwrap();
    sessions
        .record(
            &pass,
            &[
                act("s1", t0.add_millis(MIN), "https://shop/p/mug", InteractionKind::PageView, 0),
                act("s1", t0.add_millis(3 * MIN), "https://shop/cart", InteractionKind::RemoveFromCart, -1),
            ],
        )
        .await
        .unwrap();
    sessions
        .record(&pass, &[act("s2", t0.add_millis(20 * MIN), "https://shop/", InteractionKind::PageView, 0)])
        .await
        .unwrap();

    // 31 minutes after s1's last event: s1 closes, s2 (active later) stays open.
    clock.set(t0.add_millis(34 * MIN));
    assert_eq!(sweep(&sessions, &queue, clock.now()).await.unwrap(), 1);
    let got = queue.receive(topics::INTERACTIONS, 10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    let batch: InteractionBatch = serde_json::from_slice(&got[0].payload).unwrap();
    assert_eq!(batch.organization_id, org.id);
    let summary = &batch.interactions[0];
    assert_eq!(summary.kind, InteractionKind::SessionSummary);
    assert_eq!(summary.session_id.as_deref(), Some("s1"));
    assert_eq!(summary.payload["pages"], 2);
    assert_eq!(summary.payload["durationMs"], 3 * MIN);
    assert_eq!(summary.payload["exitUrl"], "https://shop/cart");
    assert_eq!(summary.payload["cartItems"], 1);
    // In arrival order: the late page view came with the second batch.
    assert_eq!(
        summary.payload["lastInteractions"],
        serde_json::json!(["page_view", "add_to_cart", "page_view", "remove_from_cart"])
    );

    // A closed session is not summarised again, even if a late retry touches it.
    sessions
        .record(&pass, &[act("s1", t0.add_millis(4 * MIN), "https://shop/", InteractionKind::PageView, 0)])
        .await
        .unwrap();
    assert_eq!(sweep(&sessions, &queue, clock.now()).await.unwrap(), 0);
    clock.set(t0.add_millis(51 * MIN));
    assert_eq!(sweep(&sessions, &queue, clock.now()).await.unwrap(), 1, "s2 closes in its turn");
}
