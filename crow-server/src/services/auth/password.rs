//! Password hashing: argon2id (19 MiB, t=2, p=1) on tokio's blocking pool, with a concurrency
//! cap and a bounded wait queue.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of a core. Without a cap a sign-in flood
//! would queue unbounded work and exhaust memory; with it, excess requests are refused at once
//! with 503 + `Retry-After` while accepted ones keep a bounded latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted (checked before hashing, so a megabyte "password" costs nothing).
pub const MAX_LENGTH: usize = 128;

/// Why hashing could not run.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashes in flight and waiting.
    #[error("password hashing is at capacity")]
    Overloaded,
    /// The hashing task failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The bounded hasher.
#[derive(Clone, Debug)]
pub struct Hasher {
    slots: Arc<Semaphore>,
    /// Hashes running or waiting for a slot.
    admitted: Arc<AtomicUsize>,
    /// Running plus waiting, at most.
    capacity: usize,
    /// A real hash of a random password: unknown emails are verified against it so they take
    /// as long as known ones (no account enumeration by timing).
    dummy: Arc<str>,
}

struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError::Failed(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Failed(e.to_string()))?;
    argon2().hash_password(password, &salt).map(|h| h.to_string()).map_err(|e| HashError::Failed(e.to_string()))
}

fn verify_blocking(password: &[u8], phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| argon2().verify_password(password, &parsed).is_ok())
}

impl Hasher {
    /// `concurrency` hashes at once, at most `max_waiting` more queued.
    pub fn new(concurrency: usize, max_waiting: usize) -> Result<Self, HashError> {
        let mut random = [0u8; 24];
        getrandom::fill(&mut random).map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: concurrency.max(1) + max_waiting,
            dummy: hash_blocking(&random)?.into(),
        })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        // Admission: refuse at once when running + waiting would exceed the capacity.
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Overloaded);
        }
        // Released however this future ends, including when the client goes away mid-wait.
        let _admission = Admission(&self.admitted);
        let _permit = self.slots.acquire().await.map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_blocking(password.as_bytes())).await?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no account,
    /// so both paths cost the same.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let ok = self.run(move || verify_blocking(password.as_bytes(), &phc)).await?;
        Ok(known && ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let h = Hasher::new(2, 4).unwrap();
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify("correct horse".into(), Some(phc.clone())).await.unwrap());
        assert!(!h.verify("wrong horse".into(), Some(phc)).await.unwrap());
        assert!(!h.verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn excess_work_is_refused_not_queued() {
        let h = Hasher::new(1, 1).unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.hash("p".repeat(10)).await })
            })
            .collect();
        let mut refused = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Err(HashError::Overloaded)) {
                refused += 1;
            }
        }
        assert!(refused >= 1, "a full queue refuses");
        assert!(refused < 8, "capacity is still served");
    }
}
