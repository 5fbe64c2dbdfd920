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
