//! One conformance suite per port, written once and run against every backend of that port.
//!
//! Each suite is a set of async functions taking the port as a trait object, plus a macro that
//! instantiates them as tests for one backend factory. Adding PostgreSQL, NATS, Redis or S3
//! means adding one macro invocation with its factory; the suite itself does not change.

#[macro_use]
pub mod cache;
#[macro_use]
pub mod objects;
#[macro_use]
pub mod queue;
#[macro_use]
pub mod stores;

use std::sync::Arc;

use crow_core::ports::clock::SystemClock;
use crow_core::ports::queue::RetryPolicy;
use crow_server::backends::memory::MemoryCache;
use crow_server::backends::objects::Objects;
use crow_server::backends::sqlite::{SqliteDatabase, SqliteInteractionStore, SqliteOrganizationStore, SqliteQueue};
use tempfile::TempDir;

/// A temp directory that lives as long as the backend under test.
pub type Guard = TempDir;

async fn sqlite() -> (SqliteDatabase, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    (db, dir)
}

async fn sqlite_queue(policy: RetryPolicy) -> (Arc<dyn crow_core::ports::queue::Queue>, Guard) {
    let (db, dir) = sqlite().await;
    (Arc::new(SqliteQueue::new(db.pool().clone(), Arc::new(SystemClock), policy)), dir)
}

async fn sqlite_stores() -> (stores::Stores, Guard) {
    let (db, dir) = sqlite().await;
    let stores = stores::Stores {
        organizations: Arc::new(SqliteOrganizationStore::new(db.pool().clone())),
        interactions: Arc::new(SqliteInteractionStore::new(db.pool().clone(), Arc::new(SystemClock))),
    };
    (stores, dir)
}

async fn memory_cache() -> (Arc<dyn crow_core::ports::cache::Cache>, ()) {
    (Arc::new(MemoryCache::new(1000)), ())
}

async fn local_objects() -> (Arc<dyn crow_core::ports::objects::ObjectStore>, Guard) {
    let dir = tempfile::tempdir().unwrap();
    (Arc::new(Objects::local(&dir.path().join("objects")).unwrap()), dir)
}

queue_conformance!(sqlite_queue_backend, sqlite_queue);
store_conformance!(sqlite_store_backend, sqlite_stores);
cache_conformance!(memory_cache_backend, memory_cache);
objects_conformance!(local_objects_backend, local_objects);
