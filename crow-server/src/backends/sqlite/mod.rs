//! The embedded storage backend: one SQLite database through sqlx.
//!
//! WAL journal (readers never block the writer), foreign keys on, `synchronous = NORMAL` (a commit
//! survives a process crash; the last commits before a power cut may be lost — see README),
//! a busy timeout so concurrent writers wait instead of failing, and the embedded migrations
//! applied at open.

mod auth;
mod interactions;
mod migrations;
mod organizations;
mod queue;
mod web_sessions;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use auth::SqliteAuthStore;
pub use interactions::SqliteInteractionStore;
pub use organizations::SqliteOrganizationStore;
pub use queue::SqliteQueue;
pub use web_sessions::SqliteWebSessionStore;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite refused to open or create the file.
    #[error("cannot open SQLite database {path}")]
    Open {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("cannot apply database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// An open, migrated SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteDatabase {
    pool: SqlitePool,
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let err = |source| OpenError::Open { path: path.display().to_string(), source };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-16000");
        let pool = SqlitePoolOptions::new()
            // One connection per process, on purpose. SQLite has one writer at a time; with
            // several connections a blocked writer waits in SQLite's busy handler, which sleeps
            // in coarse steps (up to 100 ms) — that made ingest's p99 100–200 ms under load.
            // With one connection, callers queue for it in order (async, no sleeping), and the
            // group-committing queue and batched consumer keep the writes few and large. Reads
            // lose parallelism, which on this 2-core target cost less than it saved (see the
            // ingest bench in README). `busy_timeout` still covers other processes on the file
            // (split deployments).
            .max_connections(1)
            .min_connections(1)
            // A local file cannot go stale like a network connection; the default ping before
            // every acquire would add a round trip to each query.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(err)?;
        migrations::run(&pool).await.map_err(OpenError::Migrate)?;
        Ok(Self { pool })
    }

    /// The connection pool, for the stores built on this database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Readiness: one round trip to the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Starts a write transaction. Every transaction here writes, and in WAL mode a deferred
/// transaction that reads first and then writes fails at once with `SQLITE_BUSY_SNAPSHOT` if
/// another connection committed in between — the busy timeout cannot help. `BEGIN IMMEDIATE`
/// takes the write lock up front, so contention waits (up to the busy timeout) instead.
pub(crate) async fn write_tx(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Maps sqlx errors to the store port's error, keeping the cause.
pub(crate) fn store_error(e: sqlx::Error) -> crow_core::ports::store::StoreError {
    use crow_core::ports::store::StoreError;
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Invalid("refers to a record that does not exist".to_owned())
        }
        other => StoreError::Backend(Box::new(other)),
    }
}

/// Reads a 16-byte id column.
pub(crate) fn id_bytes(row: &sqlx::sqlite::SqliteRow, column: &str) -> crow_core::ports::store::StoreResult<[u8; 16]> {
    use sqlx::Row;
    let bytes: Vec<u8> = row.try_get(column).map_err(store_error)?;
    bytes.try_into().map_err(|_| crow_core::ports::store::StoreError::Invalid(format!("{column} is not a 16-byte id")))
}

/// A value as JSON text for a TEXT column.
pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> crow_core::ports::store::StoreResult<String> {
    serde_json::to_string(value).map_err(|e| crow_core::ports::store::StoreError::Invalid(e.to_string()))
}
