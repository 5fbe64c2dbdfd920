//! The cache port: short-lived bytes under string keys, with a TTL.
//!
//! Callers build keys that include the tenant (the gateway's key is
//! `cache:{service}:{version}:{path}:{query}:{org}`), and invalidate a tenant's entries by prefix.

use core::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::BoxError;

/// Why a cache call failed. Callers treat a failing cache as a miss, never as an error to users.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend failed.
    #[error("cache backend failed")]
    Backend(#[source] BoxError),
}

/// A TTL cache.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError>;
    /// Stores `value` for `ttl`.
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError>;
    /// Removes one key.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Removes every key starting with `prefix`; returns how many were removed.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, CacheError>;
}
