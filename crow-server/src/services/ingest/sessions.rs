//! Closing idle web sessions: every sweep, sessions with no event for 30 minutes get a
//! `session_summary` interaction (pages, duration, exit page, cart state, last interactions),
//! published to the interaction queue, and are marked closed. The summary's id is derived from
//! the session, so a crash between publishing and closing only republishes the same summary,
//! which the interaction store keeps once.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crow_core::domain::{Channel, InteractionBatch, InteractionKind, NewInteraction};
use crow_core::ports::clock::Clock;
use crow_core::ports::queue::{Queue, QueueError, topics};
use crow_core::ports::store::{StoreError, WebSession, WebSessionStore};
use crow_core::{TenantPass, Timestamp};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::service::interaction_id;

/// Idle time after which a session is closed.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// How often the sweeper looks.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Why a sweep failed (it is retried at the next tick).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Reading or closing sessions.
    #[error("session store failed")]
    Store(#[from] StoreError),
    /// Publishing summaries.
    #[error("cannot publish session summaries")]
    Queue(#[from] QueueError),
    /// Encoding.
    #[error("cannot encode a summary: {0}")]
    Encode(String),
}

fn summary(s: &WebSession) -> NewInteraction {
    // A stable id per session: a namespace-like UUID from the session id's bytes.
    let seed = uuid::Uuid::from_u128(u128::from_le_bytes(sha_prefix(s.session_id.as_bytes())));
    NewInteraction {
        id: interaction_id(s.organization_id, &seed, s.last_at),
        channel: Channel::Web,
        kind: InteractionKind::SessionSummary,
        occurred_at: s.last_at,
        session_id: Some(s.session_id.clone()),
        products: Vec::new(),
        confidence: None,
        tags: vec!["web".into(), "summary".into()],
        payload: json!({
            "pages": s.pages,
            "durationMs": s.last_at.millis_since(s.started_at),
            "exitUrl": s.exit_url,
            "cartItems": s.cart_items,
            "purchased": s.purchased,
            "lastInteractions": s.recent,
        }),
        analysis: None,
    }
}

fn sha_prefix(bytes: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

/// One sweep: closes every session idle at `now`. Returns how many were closed.
pub async fn sweep(store: &dyn WebSessionStore, queue: &dyn Queue, now: Timestamp) -> Result<usize, SweepError> {
    let idle_ms = i64::try_from(IDLE.as_millis()).unwrap_or(i64::MAX);
    let mut closed = 0;
    loop {
        let sessions = store.idle(now.add_millis(-idle_ms), 500).await?;
        if sessions.is_empty() {
            return Ok(closed);
        }
        for s in &sessions {
            let batch = InteractionBatch { organization_id: s.organization_id, interactions: vec![summary(s)] };
            let message = serde_json::to_vec(&batch).map_err(|e| SweepError::Encode(e.to_string()))?;
            queue.publish(topics::INTERACTIONS, &[Bytes::from(message)]).await?;
            let pass = TenantPass::system(s.organization_id, "session sweeper: closing a session of this organization");
            store.close(&pass, &s.session_id, now).await?;
            closed += 1;
        }
    }
}

/// Sweeps every [`SWEEP_EVERY`] until shutdown.
pub async fn run(
    store: Arc<dyn WebSessionStore>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match sweep(store.as_ref(), queue.as_ref(), clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(closed = n, "closed idle web sessions"),
            Err(e) => {
                tracing::warn!(error = %crate::http::error::chain(&e), "session sweep failed; retrying next tick")
            }
        }
    }
}
