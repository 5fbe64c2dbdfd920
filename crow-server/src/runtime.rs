//! Background work: queue consumers that stop cleanly on shutdown.
//!
//! A consumer receives a batch, handles each delivery, acks on success and nacks on failure (the
//! queue then retries with backoff or dead-letters). On shutdown it stops receiving, finishes the
//! batch in hand, and returns — nothing is left half-handled, and anything not acked is
//! redelivered after restart because the queue is durable.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use crow_core::ports::queue::{Delivery, Queue};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long one `receive` waits for messages before checking for shutdown again.
const RECEIVE_WAIT: Duration = Duration::from_millis(500);
/// Pause after a queue error, so a failing backend is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Handles messages of one topic.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The topic consumed.
    fn topic(&self) -> &'static str;
    /// Messages per batch.
    fn batch_size(&self) -> usize {
        32
    }
    /// Handles one delivery; `Err` makes the queue retry it (the text is kept as `last_error`).
    async fn handle(&self, delivery: &Delivery) -> Result<(), String>;

    /// Handles a received batch, one result per delivery in order. The default handles them one
    /// by one; handlers that can write a batch at once override it.
    async fn handle_batch(&self, deliveries: &[Delivery]) -> Vec<Result<(), String>> {
        let mut out = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            out.push(self.handle(d).await);
        }
        out
    }
}

/// Running consumers.
#[derive(Debug, Default)]
pub struct Consumers {
    tasks: JoinSet<()>,
}

impl Consumers {
    /// Starts consuming `handler.topic()` until `shutdown` is cancelled.
    pub fn spawn(&mut self, queue: Arc<dyn Queue>, handler: Arc<dyn Handler>, shutdown: CancellationToken) {
        self.tasks.spawn(run(queue, handler, shutdown));
    }

    /// Runs another background task (a sweeper, a scheduler) that ends on shutdown.
    pub fn spawn_task(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Waits for every consumer to finish its batch in hand (after `shutdown` was cancelled).
    pub async fn join(mut self) {
        while let Some(result) = self.tasks.join_next().await {
            if let Err(e) = result {
                tracing::error!(error = %e, "queue consumer task failed");
            }
        }
    }
}

async fn run(queue: Arc<dyn Queue>, handler: Arc<dyn Handler>, shutdown: CancellationToken) {
    let topic = handler.topic();
    tracing::debug!(topic, "consumer started");
    while !shutdown.is_cancelled() {
        let batch = tokio::select! {
            () = shutdown.cancelled() => break,
            got = queue.receive(topic, handler.batch_size(), RECEIVE_WAIT) => got,
        };
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(topic, error = %crate::http::error::chain(&e), "receive failed; pausing");
                tokio::time::sleep(ERROR_PAUSE).await;
                continue;
            }
        };
        // The batch in hand is finished even if shutdown starts meanwhile.
        let results = handler.handle_batch(&batch).await;
        // Successes are acked together (one write), failures nacked one by one.
        let done: Vec<Delivery> =
            batch.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(d, _)| d.clone()).collect();
        let mut acks = queue.ack_many(&done).await.into_iter();
        for (delivery, result) in batch.iter().zip(results) {
            let settled = match result {
                Ok(()) => acks.next().unwrap_or(Ok(())).map(|()| None),
                Err(reason) => queue.nack(delivery, &reason).await.map(Some),
            };
            match settled {
                Ok(None) => {}
                Ok(Some(outcome)) => {
                    tracing::warn!(topic, attempt = delivery.attempt, ?outcome, "message handling failed")
                }
                Err(e) => {
                    tracing::warn!(topic, error = %crate::http::error::chain(&e), "could not settle message; it will be redelivered")
                }
            }
        }
    }
    tracing::debug!(topic, "consumer stopped");
}
