//! An in-memory TTL cache with a bounded number of entries.
//!
//! Expired entries are dropped when read and swept when the cache is full; if it is still full,
//! the entries closest to expiry go first (they were going to disappear soonest anyway). The
//! bound keeps memory predictable when keys are attacker-influenced (paths, queries).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use crow_core::ports::cache::{Cache, CacheError};

/// Key → (value, expiry).
type Entries = HashMap<String, (Bytes, Instant)>;

/// In-memory [`Cache`].
#[derive(Debug)]
pub struct MemoryCache {
    entries: Mutex<Entries>,
    max_entries: usize,
}

impl MemoryCache {
    /// A cache holding at most `max_entries` keys.
    pub fn new(max_entries: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), max_entries: max_entries.max(1) }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Entries>, CacheError> {
        self.entries.lock().map_err(|_| CacheError::Backend("cache lock poisoned".into()))
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        let mut entries = self.lock()?;
        match entries.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Ok(Some(value.clone())),
            Some(_) => {
                entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut entries = self.lock()?;
        if entries.len() >= self.max_entries && !entries.contains_key(key) {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= self.max_entries {
                // Evict the soonest-expiring tenth in one pass, so a full cache does not pay
                // a full scan on every insert.
                let mut by_expiry: Vec<(Instant, String)> = entries.iter().map(|(k, (_, e))| (*e, k.clone())).collect();
                let evict = (self.max_entries / 10).max(1);
                let nth = evict.min(by_expiry.len() - 1);
                by_expiry.select_nth_unstable(nth);
                for (_, k) in by_expiry.into_iter().take(evict) {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock()?.remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, CacheError> {
        let mut entries = self.lock()?;
        let before = entries.len();
        entries.retain(|k, _| !k.starts_with(prefix));
        Ok((before - entries.len()) as u64)
    }
}
