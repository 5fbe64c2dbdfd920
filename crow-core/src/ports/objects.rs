//! The object-storage port: blobs (frames, images, crawl results) under tenant-scoped keys.
//!
//! Keys are validated relative paths and every call takes a [`TenantPass`]; backends place the
//! object under the pass's organization, so one tenant cannot name another's objects.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use async_trait::async_trait;
use bytes::Bytes;

use super::BoxError;
use crate::tenancy::TenantPass;
use crate::time::Timestamp;

/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 512;

/// A validated object key: `/`-separated segments of `[A-Za-z0-9._-]`, no empty, `.` or `..`
/// segment, at most [`MAX_KEY_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates `key`.
    pub fn new(key: impl Into<String>) -> Result<Self, ObjectError> {
        let key = key.into();
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if key.len() > MAX_KEY_LEN || !key.split('/').all(segment_ok) {
            return Err(ObjectError::InvalidKey(format!("{key:.64}")));
        }
        Ok(Self(key))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is known about a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Key (without the tenant prefix).
    pub key: ObjectKey,
    /// Size in bytes.
    pub size: u64,
    /// Last write.
    pub last_modified: Timestamp,
}

/// Why an object call failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Key is not a valid object key.
    #[error("invalid object key `{0}`")]
    InvalidKey(String),
    /// No object under that key for this tenant.
    #[error("object not found")]
    NotFound,
    /// The backend failed.
    #[error("object store failed")]
    Backend(#[source] BoxError),
}

/// Blob storage.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Writes (or replaces) an object atomically.
    async fn put(&self, pass: &TenantPass, key: &ObjectKey, body: Bytes) -> Result<ObjectMeta, ObjectError>;
    /// Reads an object.
    async fn get(&self, pass: &TenantPass, key: &ObjectKey) -> Result<Bytes, ObjectError>;
    /// Deletes an object; deleting a missing object succeeds.
    async fn delete(&self, pass: &TenantPass, key: &ObjectKey) -> Result<(), ObjectError>;
    /// Lists objects whose key starts with `prefix` (segment-wise), sorted by key.
    async fn list(&self, pass: &TenantPass, prefix: Option<&ObjectKey>) -> Result<Vec<ObjectMeta>, ObjectError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        for ok in ["a", "frames/cam-1/0001.jpg", "x_y.Z-9"] {
            assert!(ObjectKey::new(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for bad in ["", "/abs", "a//b", "../up", "a/./b", "sp ace", "a\\b", "ü", long.as_str()] {
            assert!(ObjectKey::new(bad).is_err(), "{bad}");
        }
    }
}
