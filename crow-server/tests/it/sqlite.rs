//! What only the SQLite backend must show: durability across a reopen, and its pragmas.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crow_core::ports::clock::SystemClock;
use crow_core::ports::queue::{Queue, RetryPolicy};
use crow_server::backends::sqlite::{SqliteDatabase, SqliteQueue};

fn queue(db: &SqliteDatabase, visibility: Duration) -> SqliteQueue {
    let policy = RetryPolicy { visibility_timeout: visibility, ..RetryPolicy::default() };
    SqliteQueue::new(db.pool().clone(), Arc::new(SystemClock), policy)
}

#[tokio::test]
async fn messages_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crow.db");
    {
        let db = SqliteDatabase::open(&path).await.unwrap();
        let q = queue(&db, Duration::from_secs(30));
        q.publish("interactions", &[Bytes::from("before-restart-1"), Bytes::from("before-restart-2")]).await.unwrap();
        // One message is in a consumer's hands when the process dies.
        let leased = q.receive("interactions", 1, Duration::ZERO).await.unwrap();
        assert_eq!(leased[0].payload, Bytes::from("before-restart-1"));
        db.close().await;
    }
    let db = SqliteDatabase::open(&path).await.unwrap();
    let q = queue(&db, Duration::from_millis(300));
    assert_eq!(q.pending("interactions").await.unwrap(), 2, "nothing lost");
    let first = q.receive("interactions", 10, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, Bytes::from("before-restart-2"));
    q.ack(&first[0]).await.unwrap();
    // The lease taken before the restart still runs (30 s): the other message stays leased.
    assert!(q.receive("interactions", 10, Duration::from_millis(500)).await.unwrap().is_empty());
    assert_eq!(q.pending("interactions").await.unwrap(), 1);
}

/// A consumer with nothing to receive only reads: another process holding the write lock (a
/// split deployment shares the file) does not hold it up, and it takes no lock of its own.
#[tokio::test]
async fn an_idle_receive_does_not_wait_for_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crow.db");
    let db = SqliteDatabase::open(&path).await.unwrap();
    let q = queue(&db, Duration::from_secs(30));
    q.publish("busy", &[Bytes::from("leased")]).await.unwrap();
    assert_eq!(q.receive("busy", 1, Duration::ZERO).await.unwrap().len(), 1);
    // Another process's writer, in the middle of a transaction.
    let other = SqliteDatabase::open(&path).await.unwrap();
    let writer = other.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    // The busy timeout is 10 s: a receive that wrote would block that long, then fail.
    let idle = tokio::time::timeout(Duration::from_secs(3), q.receive("busy", 10, Duration::from_millis(300)))
        .await
        .expect("an idle receive waited for another process's write lock");
    assert!(idle.unwrap().is_empty(), "the only message is leased");
    writer.rollback().await.unwrap();
}

/// A consumer that dies holding the final attempt leaves a message that is dead-lettered when
/// its lease runs out, never delivered a third time.
#[tokio::test]
async fn a_final_attempt_whose_lease_runs_out_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let policy =
        RetryPolicy { max_attempts: 2, visibility_timeout: Duration::from_millis(100), ..RetryPolicy::default() };
    let q = SqliteQueue::new(db.pool().clone(), Arc::new(SystemClock), policy);
    q.publish("t", &[Bytes::from("poison")]).await.unwrap();
    for attempt in 1..=2 {
        let got = q.receive("t", 1, Duration::from_secs(3)).await.unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt}");
        assert_eq!(got[0].attempt, attempt);
        // Never acknowledged: the consumer died.
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(q.receive("t", 1, Duration::from_millis(300)).await.unwrap().is_empty(), "delivered a third time");
    let dead = q.dead_letters("t", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].last_error.as_str()), (2, "lease expired on final attempt"));
    assert_eq!(q.pending("t").await.unwrap(), 0);
}

#[tokio::test]
async fn expired_lease_from_before_restart_redelivers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crow.db");
    {
        let db = SqliteDatabase::open(&path).await.unwrap();
        let q = queue(&db, Duration::from_millis(200));
        q.publish("t", &[Bytes::from("in-flight")]).await.unwrap();
        assert_eq!(q.receive("t", 1, Duration::ZERO).await.unwrap().len(), 1);
        db.close().await;
    }
    let db = SqliteDatabase::open(&path).await.unwrap();
    let q = queue(&db, Duration::from_secs(30));
    let again = q.receive("t", 1, Duration::from_secs(3)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, Bytes::from("in-flight"));
    assert_eq!(again[0].attempt, 2);
}

#[tokio::test]
async fn reopening_applies_migrations_once_and_keeps_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crow.db");
    SqliteDatabase::open(&path).await.unwrap().close().await;
    let db = SqliteDatabase::open(&path).await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(db.pool()).await.unwrap();
    assert_eq!(journal, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(db.pool()).await.unwrap();
    assert_eq!(fk, 1);
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(db.pool()).await.unwrap();
    assert_eq!(applied, 5);
}

/// Read-then-write transactions racing other writers must wait, not fail: in WAL mode a
/// deferred transaction that reads first fails at once (`SQLITE_BUSY_SNAPSHOT`) when another
/// connection commits in between, which `BEGIN IMMEDIATE` prevents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_read_then_write_transactions_do_not_fail() {
    use crow_core::domain::InteractionKind;
    use crow_core::ports::store::{OrganizationStore, SessionActivity, WebSessionStore};
    use crow_server::backends::sqlite::{SqliteOrganizationStore, SqliteWebSessionStore};

    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let org =
        SqliteOrganizationStore::new(db.pool().clone()).create(&crate::fixtures::organization("Race")).await.unwrap();
    let sessions = Arc::new(SqliteWebSessionStore::new(db.pool().clone()));
    let q = Arc::new(queue(&db, Duration::from_secs(30)));
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let sessions = Arc::clone(&sessions);
        let q = Arc::clone(&q);
        let pass = crate::fixtures::pass_for(org.id);
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let activity = SessionActivity {
                    session_id: format!("s{}", i % 3),
                    at: crow_core::Timestamp::from_millis(i64::from(i)),
                    url: "https://shop/".into(),
                    kind: InteractionKind::PageView,
                    cart_delta: 0,
                };
                sessions.record(&pass, &[activity]).await.unwrap_or_else(|e| panic!("worker {worker}: {e:?}"));
                q.publish("t", &[Bytes::from(format!("{worker}-{i}"))]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(q.pending("t").await.unwrap(), 160);
}
