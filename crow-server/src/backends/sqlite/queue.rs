//! The in-process durable queue on SQLite.
//!
//! Every operation is a single SQL statement (or one transaction for a publish batch), so the
//! queue's state is always consistent even when the process dies between calls. Waiting
//! consumers are woken by a `Notify` on publish, with a short poll as a backstop so retries
//! whose backoff has elapsed are picked up without a publish.
//!
//! Publishes are group-committed: concurrent `publish` calls hand their messages to one writer
//! task, which writes everything waiting in a single transaction and then answers each caller.
//! SQLite has one writer at a time, so N requests publishing at once cost one transaction
//! instead of N queued ones; each caller still returns only after its messages are committed.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use crow_core::Timestamp;
use crow_core::ports::clock::Clock;
use crow_core::ports::queue::{DeadLetter, Delivery, NackOutcome, Queue, QueueError, Receipt, RetryPolicy};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{Notify, mpsc, oneshot};

/// How often a waiting `receive` looks again even without a publish.
const POLL: Duration = Duration::from_millis(200);
/// Messages per publish statement.
const PUBLISH_CHUNK: usize = 256;
/// Most publish calls folded into one transaction.
const GROUP_MAX: usize = 512;

/// One caller's messages, waiting for the group writer.
struct Publish {
    topic: String,
    payloads: Vec<Bytes>,
    done: oneshot::Sender<Result<(), String>>,
}

/// SQLite-backed [`Queue`].
#[derive(Clone, Debug)]
pub struct SqliteQueue {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    published: Arc<Notify>,
    /// The group writer, started by the first publish (which runs inside the runtime).
    writer: Arc<OnceLock<mpsc::UnboundedSender<Publish>>>,
}

impl SqliteQueue {
    /// A queue over `pool` with `policy`; `clock` decides readiness and backoff.
    pub fn new(pool: SqlitePool, clock: Arc<dyn Clock>, policy: RetryPolicy) -> Self {
        Self { pool, clock, policy, published: Arc::new(Notify::new()), writer: Arc::new(OnceLock::new()) }
    }

    fn writer(&self) -> &mpsc::UnboundedSender<Publish> {
        self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(group_writer(self.pool.clone(), Arc::clone(&self.clock), Arc::clone(&self.published), rx));
            tx
        })
    }

    fn now(&self) -> i64 {
        self.clock.now().as_millis()
    }

    async fn try_receive(&self, topic: &str, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let now = self.now();
        // A read first: a waiting consumer looks every `POLL`, and the statements below write,
        // so an idle consumer would otherwise take the write lock five times a second — on the
        // process's one connection ahead of ingest, and on the file against every other process
        // of a split deployment. It also tells whether the dead-lettering statement has work.
        let (ready, final_attempts): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM queue_messages \
                            WHERE topic = ?1 AND dead_at IS NULL AND available_at <= ?2), \
                    EXISTS (SELECT 1 FROM queue_messages \
                            WHERE topic = ?1 AND dead_at IS NULL AND available_at <= ?2 AND attempts >= ?3)",
        )
        .bind(topic)
        .bind(now)
        .bind(i64::from(self.policy.max_attempts))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        if !ready {
            return Ok(Vec::new());
        }
        if final_attempts {
            // A message whose final attempt's lease ran out (its consumer died) is dead-lettered
            // rather than delivered beyond max_attempts.
            sqlx::query(
                "UPDATE queue_messages SET dead_at = ?1, last_error = COALESCE(last_error, 'lease expired on final attempt') \
                 WHERE topic = ?2 AND dead_at IS NULL AND available_at <= ?1 AND attempts >= ?3",
            )
            .bind(now)
            .bind(topic)
            .bind(i64::from(self.policy.max_attempts))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        }

        let lease_until = now.saturating_add(millis(self.policy.visibility_timeout));
        let rows = sqlx::query(
            "UPDATE queue_messages SET attempts = attempts + 1, lease = lease + 1, available_at = ?1 \
             WHERE id IN (SELECT id FROM queue_messages WHERE topic = ?2 AND dead_at IS NULL AND available_at <= ?3 \
                          AND attempts < ?5 ORDER BY id LIMIT ?4) \
             RETURNING id, payload, attempts, lease, published_at",
        )
        .bind(lease_until)
        .bind(topic)
        .bind(now)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        // Never beyond the final attempt, even if another process's lease ran out just now.
        .bind(i64::from(self.policy.max_attempts))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;

        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id").map_err(backend)?;
            let lease: i64 = row.try_get("lease").map_err(backend)?;
            let attempts: i64 = row.try_get("attempts").map_err(backend)?;
            let payload: Vec<u8> = row.try_get("payload").map_err(backend)?;
            out.push((
                id,
                Delivery {
                    receipt: Receipt::new(format!("{id}:{lease}")),
                    topic: topic.to_owned(),
                    payload: Bytes::from(payload),
                    attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
                    published_at: Timestamp::from_millis(row.try_get("published_at").map_err(backend)?),
                },
            ));
        }
        // RETURNING does not promise an order; deliver in publish order.
        out.sort_by_key(|(id, _)| *id);
        Ok(out.into_iter().map(|(_, d)| d).collect())
    }
}

/// Writes whatever publishes are waiting, one transaction per group, until every sender is gone.
async fn group_writer(
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    published: Arc<Notify>,
    mut rx: mpsc::UnboundedReceiver<Publish>,
) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let result = write_group(&pool, clock.now().as_millis(), &group).await.map_err(|e| {
            tracing::warn!(error = %e, "queue publish failed");
            e.to_string()
        });
        if result.is_ok() {
            published.notify_waiters();
        }
        for p in group {
            // A caller that went away (its request was cancelled) needs no answer; its messages
            // are committed all the same, like any message whose publisher died after publishing.
            let _ = p.done.send(result.clone());
        }
    }
}

async fn write_group(pool: &SqlitePool, now: i64, group: &[Publish]) -> Result<(), sqlx::Error> {
    let mut tx = super::write_tx(pool).await?;
    let rows: Vec<(&str, &Bytes)> =
        group.iter().flat_map(|p| p.payloads.iter().map(move |b| (p.topic.as_str(), b))).collect();
    for chunk in rows.chunks(PUBLISH_CHUNK) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO queue_messages (topic, payload, available_at, published_at) ");
        q.push_values(chunk, |mut row, (topic, payload)| {
            row.push_bind(*topic).push_bind(payload.as_ref()).push_bind(now).push_bind(now);
        });
        q.build().persistent(true).execute(&mut *tx).await?;
    }
    tx.commit().await
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn backend(e: sqlx::Error) -> QueueError {
    QueueError::Backend(Box::new(e))
}

fn parse_receipt(receipt: &Receipt) -> Result<(i64, i64), QueueError> {
    let (id, lease) = receipt.as_str().split_once(':').ok_or(QueueError::BadReceipt)?;
    Ok((id.parse().map_err(|_| QueueError::BadReceipt)?, lease.parse().map_err(|_| QueueError::BadReceipt)?))
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn publish(&self, topic: &str, payloads: &[Bytes]) -> Result<(), QueueError> {
        if payloads.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        let publish = Publish { topic: topic.to_owned(), payloads: payloads.to_vec(), done };
        self.writer().send(publish).map_err(|_| QueueError::Backend("the queue writer has stopped".into()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(QueueError::Backend(reason.into())),
            Err(_) => Err(QueueError::Backend("the queue writer has stopped".into())),
        }
    }

    async fn receive(&self, topic: &str, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a publish between the look and the wait
            // is not missed.
            let notified = self.published.notified();
            let got = self.try_receive(topic, max.max(1)).await?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let nap = (deadline - now).min(POLL);
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.ack_many(std::slice::from_ref(delivery)).await.pop().unwrap_or(Err(QueueError::StaleReceipt))
    }

    /// One statement for the whole batch; each receipt is still checked on its own (the deleted
    /// ids come back), so a stale one fails alone.
    async fn ack_many(&self, deliveries: &[Delivery]) -> Vec<Result<(), QueueError>> {
        let receipts: Vec<Result<(i64, i64), QueueError>> =
            deliveries.iter().map(|d| parse_receipt(&d.receipt)).collect();
        let valid: Vec<(i64, i64)> = receipts.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        let mut deleted = std::collections::HashSet::new();
        for chunk in valid.chunks(PUBLISH_CHUNK) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("DELETE FROM queue_messages WHERE dead_at IS NULL AND (id, lease) IN (VALUES ");
            let mut list = q.separated(", ");
            for (id, lease) in chunk {
                list.push("(").push_bind_unseparated(*id).push_unseparated(", ").push_bind_unseparated(*lease);
                list.push_unseparated(")");
            }
            q.push(") RETURNING id");
            match q.build().fetch_all(&self.pool).await {
                Ok(rows) => deleted.extend(rows.iter().filter_map(|r| r.try_get::<i64, _>("id").ok())),
                Err(e) => {
                    // Nothing of this chunk was deleted: those deliveries stay leased and come back.
                    let reason = e.to_string();
                    return receipts
                        .into_iter()
                        .map(|r| match r {
                            Ok((id, _)) if deleted.contains(&id) => Ok(()),
                            Ok(_) => Err(QueueError::Backend(reason.clone().into())),
                            Err(e) => Err(e),
                        })
                        .collect();
                }
            }
        }
        receipts
            .into_iter()
            .map(|r| match r {
                Ok((id, _)) if deleted.contains(&id) => Ok(()),
                Ok(_) => Err(QueueError::StaleReceipt),
                Err(e) => Err(e),
            })
            .collect()
    }

    async fn nack(&self, delivery: &Delivery, error: &str) -> Result<NackOutcome, QueueError> {
        let (id, lease) = parse_receipt(&delivery.receipt)?;
        let now = self.now();
        let dead = delivery.attempt >= self.policy.max_attempts;
        let retry_at = now.saturating_add(millis(self.policy.backoff(delivery.attempt)));
        let error: String = error.chars().take(2000).collect();
        let done = sqlx::query(
            "UPDATE queue_messages SET last_error = ?, available_at = ?, dead_at = ? \
             WHERE id = ? AND lease = ? AND dead_at IS NULL",
        )
        .bind(error)
        .bind(retry_at)
        .bind(dead.then_some(now))
        .bind(id)
        .bind(lease)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(QueueError::StaleReceipt);
        }
        if !dead {
            // A consumer may be waiting for exactly this retry; wake it when it is due.
            let notify = Arc::clone(&self.published);
            let delay = self.policy.backoff(delivery.attempt);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                notify.notify_waiters();
            });
        }
        Ok(if dead { NackOutcome::DeadLettered } else { NackOutcome::RetryAt(Timestamp::from_millis(retry_at)) })
    }

    async fn dead_letters(&self, topic: &str, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let rows = sqlx::query(
            "SELECT payload, attempts, last_error, published_at FROM queue_messages \
             WHERE topic = ? AND dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT ?",
        )
        .bind(topic)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|row| {
                let payload: Vec<u8> = row.try_get("payload").map_err(backend)?;
                let attempts: i64 = row.try_get("attempts").map_err(backend)?;
                let last_error: Option<String> = row.try_get("last_error").map_err(backend)?;
                Ok(DeadLetter {
                    payload: Bytes::from(payload),
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: last_error.unwrap_or_default(),
                    published_at: Timestamp::from_millis(row.try_get("published_at").map_err(backend)?),
                })
            })
            .collect()
    }

    async fn pending(&self, topic: &str) -> Result<u64, QueueError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM queue_messages WHERE topic = ? AND dead_at IS NULL")
            .bind(topic)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
