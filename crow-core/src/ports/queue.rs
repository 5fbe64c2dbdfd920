//! The durable queue port: at-least-once delivery with leases, retries with exponential backoff,
//! and a dead-letter list after too many attempts.
//!
//! Semantics every backend must show (the conformance suite checks each):
//! - `publish` returns only once the messages are durable; a batch is all-or-nothing.
//! - `receive` leases up to `max` ready messages for the policy's visibility timeout; a message
//!   not acked before its lease ends is delivered again (so a crashed consumer loses nothing).
//! - `ack` removes a message; an ack with a receipt whose lease was taken over is refused.
//! - `nack` schedules a retry after `backoff(attempt)`, or dead-letters the message once it has
//!   been attempted `max_attempts` times.
//!
//! Consumers must therefore be idempotent; CROW's are keyed on ids fixed by the producer.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::BoxError;
use crate::time::Timestamp;

/// Topic names, shared by producers and consumers.
pub mod topics {
    /// Interactions from every channel, consumed by the interaction service.
    pub const INTERACTIONS: &str = "interactions";
    /// Analysed CCTV frames awaiting batch processing.
    pub const CCTV_BATCH: &str = "cctv-batch";
    /// Raw social items awaiting enrichment.
    pub const SOCIAL_PROCESSING: &str = "social-processing";
    /// Product crawl requests.
    pub const PRODUCT_CRAWL: &str = "product-crawl";
    /// Notifications to deliver.
    pub const NOTIFICATIONS: &str = "notifications";
    /// Organization/user records to sync after auth changes (the outbox of organization create).
    pub const ORG_SYNC: &str = "org-sync";
}

/// Retry and lease settings of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Deliveries before a message is dead-lettered.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles with each attempt.
    pub base_backoff: Duration,
    /// Cap on the delay.
    pub max_backoff: Duration,
    /// How long a received message stays invisible to other consumers.
    pub visibility_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            visibility_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Delay before the retry that follows failed attempt number `attempt` (1-based):
    /// `base * 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        self.base_backoff.saturating_mul(1u32 << exp).min(self.max_backoff)
    }
}

/// An opaque handle for acking one delivery; its content is backend-specific.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Receipt(String);

impl Receipt {
    /// Wraps a backend's handle.
    pub fn new(handle: impl Into<String>) -> Self {
        Self(handle.into())
    }

    /// The backend's handle.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One leased message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// For `ack`/`nack`.
    pub receipt: Receipt,
    /// Topic.
    pub topic: String,
    /// Message body.
    pub payload: Bytes,
    /// 1 on first delivery.
    pub attempt: u32,
    /// When it was published.
    pub published_at: Timestamp,
}

/// What `nack` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NackOutcome {
    /// Will be delivered again at this time.
    RetryAt(Timestamp),
    /// Attempts exhausted; moved to the dead-letter list.
    DeadLettered,
}

/// A message that exhausted its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Message body.
    pub payload: Bytes,
    /// Deliveries made.
    pub attempts: u32,
    /// The last `nack` reason.
    pub last_error: String,
    /// When it was published.
    pub published_at: Timestamp,
}

/// Why a queue call failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The receipt's lease ended and the message was leased again; this consumer must not ack.
    #[error("the delivery's lease expired and the message was redelivered")]
    StaleReceipt,
    /// The receipt is not one this backend issued.
    #[error("malformed receipt")]
    BadReceipt,
    /// The backend failed; retrying later may work.
    #[error("queue backend failed")]
    Backend(#[source] BoxError),
}

/// A durable queue.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Durably appends the messages to `topic`, all or none.
    async fn publish(&self, topic: &str, payloads: &[Bytes]) -> Result<(), QueueError>;

    /// Leases up to `max` ready messages, waiting up to `wait` for the first to arrive.
    async fn receive(&self, topic: &str, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError>;

    /// Done with a delivery: remove it.
    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError>;

    /// Done with several deliveries: one result per delivery, in order. Backends override it to
    /// settle a consumer's whole batch in one write instead of one per message.
    async fn ack_many(&self, deliveries: &[Delivery]) -> Vec<Result<(), QueueError>> {
        let mut results = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            results.push(self.ack(d).await);
        }
        results
    }

    /// Failed a delivery: retry later or dead-letter.
    async fn nack(&self, delivery: &Delivery, error: &str) -> Result<NackOutcome, QueueError>;

    /// The newest dead letters of `topic`.
    async fn dead_letters(&self, topic: &str, limit: usize) -> Result<Vec<DeadLetter>, QueueError>;

    /// Messages not yet acked or dead-lettered (ready, waiting for a retry, or leased).
    async fn pending(&self, topic: &str) -> Result<u64, QueueError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            visibility_timeout: Duration::from_secs(5),
        };
        let got: Vec<u128> = (1..=6).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(1));
    }
}
