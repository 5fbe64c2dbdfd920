//! A small in-process memo: values kept for a fixed time, in bounded memory.
//!
//! For hot-path lookups whose answer may be a few seconds stale (verified identities in the
//! gateway; organizations and the interaction queue's depth in ingest). Typed and clone-out, unlike the `Cache` port, which holds
//! serialised bytes for data shared across processes.
//!
//! Hashed with foldhash, seeded per process, rather than SipHash: the gateway looks an identity
//! up on every request and SipHash cost more than the lookup itself. Keys are digests of
//! credentials that verified, organization ids and client addresses — values a caller cannot
//! mint at will — so a seeded fast hash keeps collision floods out of reach.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

/// Values by key, each for `ttl`, at most `max` at once.
#[derive(Debug)]
pub struct Memo<K, V> {
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<K, (V, Instant), RandomState>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self { ttl, max, entries: Mutex::new(HashMap::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant), RandomState>> {
        // Nothing panics while holding the lock; were it poisoned, the map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value, unless absent or older than the TTL.
    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    /// Remembers `value`. When full, expired entries go first, and everything if none had.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.max {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_stays_bounded() {
        let memo = Memo::new(Duration::from_millis(30), 2);
        memo.insert(1, "a");
        assert_eq!(memo.get(&1), Some("a"));
        memo.remove(&1);
        assert_eq!(memo.get(&1), None);
        memo.insert(1, "a");
        memo.insert(2, "b");
        memo.insert(3, "c");
        assert!(memo.lock().len() <= 2, "bounded");
        assert_eq!(memo.get(&3), Some("c"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(memo.get(&3), None, "expired");
    }
}
