//! Concrete backends behind the `crow-core` ports, and the one place that picks them.
//!
//! The embedded deployment uses SQLite (stores and queue), the local filesystem (objects) and
//! memory (cache). Scale-out backends (PostgreSQL, NATS JetStream, Redis, S3) are added here
//! behind the same ports, selected by configuration, and must pass the same conformance suites
//! (`crow-server/tests/it/conformance`).

pub mod ai;
pub mod memory;
pub mod objects;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use crow_core::api::Check;
use crow_core::ports::ai::{Embedder, StructuredExtractor};
use crow_core::ports::auth::AuthStore;
use crow_core::ports::cache::Cache;
use crow_core::ports::clock::{Clock, SystemClock};
use crow_core::ports::objects::{ObjectError, ObjectStore};
use crow_core::ports::queue::{Queue, RetryPolicy};
use crow_core::ports::store::{InteractionStore, OrganizationStore, WebSessionStore};

use self::sqlite::SqliteDatabase;

/// Entries the in-memory cache holds at most.
const CACHE_ENTRIES: usize = 50_000;

/// Why a backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The database.
    #[error(transparent)]
    Database(#[from] sqlite::OpenError),
    /// The object store.
    #[error("cannot open the object store")]
    Objects(#[source] ObjectError),
}

/// Every port, wired to a backend. Services receive these as trait objects.
#[derive(Clone)]
pub struct Backends {
    /// The database, kept for readiness checks and shutdown.
    pub database: SqliteDatabase,
    /// Interactions.
    pub interactions: Arc<dyn InteractionStore>,
    /// Organizations.
    pub organizations: Arc<dyn OrganizationStore>,
    /// The durable queue.
    pub queue: Arc<dyn Queue>,
    /// The TTL cache.
    pub cache: Arc<dyn Cache>,
    /// Object storage.
    pub objects: Arc<dyn ObjectStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The auth service's records (users, sessions, memberships, keys).
    pub auth: Arc<dyn AuthStore>,
    /// Open web sessions.
    pub web_sessions: Arc<dyn WebSessionStore>,
    /// Structured extraction (offline by default).
    pub extractor: Arc<dyn StructuredExtractor>,
    /// Text embeddings (offline by default).
    pub embedder: Arc<dyn Embedder>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends").field("database", &self.database).finish_non_exhaustive()
    }
}

impl Backends {
    /// The embedded backends under `data_dir` (which must exist and be writable).
    pub async fn embedded(data_dir: &Path, queue_policy: RetryPolicy) -> Result<Self, BackendError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let database = SqliteDatabase::open(&data_dir.join("crow.db")).await?;
        let pool = database.pool().clone();
        Ok(Self {
            interactions: Arc::new(sqlite::SqliteInteractionStore::new(pool.clone(), Arc::clone(&clock))),
            organizations: Arc::new(sqlite::SqliteOrganizationStore::new(pool.clone())),
            auth: Arc::new(sqlite::SqliteAuthStore::new(pool.clone())),
            web_sessions: Arc::new(sqlite::SqliteWebSessionStore::new(pool.clone())),
            extractor: Arc::new(ai::offline::OfflineExtractor),
            embedder: Arc::new(ai::offline::HashingEmbedder::new(384)),
            queue: Arc::new(sqlite::SqliteQueue::new(pool, Arc::clone(&clock), queue_policy)),
            cache: Arc::new(memory::MemoryCache::new(CACHE_ENTRIES)),
            objects: Arc::new(objects::Objects::local(&data_dir.join("objects")).map_err(BackendError::Objects)?),
            database,
            clock,
        })
    }

    /// Readiness checks of every backend that can fail.
    pub async fn checks(&self) -> Vec<Check> {
        let database = self.database.ping().await;
        vec![Check {
            name: "database".into(),
            ok: database.is_ok(),
            // The error's kind, not its text: connection details stay out of public answers.
            error: database.err().map(|_| "database did not answer".into()),
        }]
    }

    /// Releases connections; called last during shutdown.
    pub async fn close(&self) {
        self.database.close().await;
    }
}
