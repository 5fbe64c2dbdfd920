//! Ingest sheds load when the interaction queue is far behind, and resumes once it drains.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crow_core::ports::clock::SystemClock;
use crow_core::ports::queue::{Queue, RetryPolicy, topics};
use crow_core::ports::store::OrganizationStore;
use crow_core::tenancy::{Caller, Principal};
use crow_server::backends::sqlite::{SqliteDatabase, SqliteInteractionStore, SqliteOrganizationStore, SqliteQueue};
use crow_server::services::ingest::service::{Ingest, KeyKind};

fn batch(id: &str) -> Bytes {
    let now = crow_core::Timestamp::now().as_millis();
    Bytes::from(format!(
        r#"{{"v":1,"sentAt":{now},"events":[{{"id":"{id}","ts":{now},"sessionId":"s","url":"https://shop/","type":"page_view"}}]}}"#
    ))
}

#[tokio::test]
async fn ingest_answers_503_with_retry_after_while_the_queue_is_too_deep() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let clock = Arc::new(SystemClock);
    let orgs = Arc::new(SqliteOrganizationStore::new(db.pool().clone()));
    let org = orgs.create(&crate::fixtures::organization("Shop")).await.unwrap();
    let queue: Arc<dyn Queue> = Arc::new(SqliteQueue::new(db.pool().clone(), clock.clone(), RetryPolicy::default()));
    let ingest = Ingest::new(
        orgs,
        Arc::new(SqliteInteractionStore::new(db.pool().clone(), clock.clone())),
        Arc::clone(&queue),
        clock,
    )
    .with_backlog_limit(2, Duration::ZERO);
    let caller = Caller::from_verified(Principal::Service { name: "test".into() }, Some(org.id), None);

    for id in ["0192f0c4-8a4e-7cc3-9b1a-000000000001", "0192f0c4-8a4e-7cc3-9b1a-000000000002"] {
        let receipt = ingest.ingest(&caller, None, KeyKind::None, &batch(id)).await.unwrap();
        assert_eq!(receipt.accepted, 1);
    }
    // Two batches wait: the third is refused, nothing of it is enqueued, and the answer says when
    // to come back.
    let refused = ingest.ingest(&caller, None, KeyKind::None, &batch("0192f0c4-8a4e-7cc3-9b1a-000000000003")).await;
    let response = axum::response::IntoResponse::into_response(refused.unwrap_err());
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(queue.pending(topics::INTERACTIONS).await.unwrap(), 2);

    // The consumer catches up: ingest accepts again.
    for d in queue.receive(topics::INTERACTIONS, 10, Duration::ZERO).await.unwrap() {
        queue.ack(&d).await.unwrap();
    }
    let receipt = ingest.ingest(&caller, None, KeyKind::None, &batch("0192f0c4-8a4e-7cc3-9b1a-000000000004")).await;
    assert_eq!(receipt.unwrap().accepted, 1);
}
