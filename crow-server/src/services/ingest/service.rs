//! Ingest logic over the ports.

use std::sync::Arc;

use bytes::Bytes;
use crow_core::domain::{Channel, InteractionBatch, NewInteraction, ProductRef};
use crow_core::event::{EventData, Limits, TrackerEvent, parse_event};
use crow_core::id::InteractionId;
use crow_core::ports::clock::Clock;
use crow_core::ports::queue::{Queue, topics};
use crow_core::ports::store::{InteractionStore, OrganizationStore, RejectedEvent, SessionActivity, WebSessionStore};
use crow_core::tenancy::Caller;
use crow_core::{ErrorCode, OrganizationId, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::ApiError;
use crate::http::origins::TrustedOrigins;

/// Largest batch body accepted.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Raw rejected events are kept up to this size.
const MAX_REJECTED_BYTES: usize = 8 * 1024;

/// One event that was not accepted.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// Position in the batch.
    pub index: usize,
    /// Field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// The answer to a batch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Events accepted and durably enqueued.
    pub accepted: usize,
    /// Events refused, each with its reason.
    pub rejected: Vec<Rejection>,
}

/// Which key the tracker used, as far as ingest is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `crow_pk_…`: from pages.
    Publishable,
    /// `crow_sk_…`: from servers only.
    Secret,
    /// A service call without a key.
    None,
}

/// The ingest service.
#[derive(Clone)]
pub struct Ingest {
    organizations: Arc<dyn OrganizationStore>,
    interactions: Arc<dyn InteractionStore>,
    sessions: Arc<dyn WebSessionStore>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    limits: Limits,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ingest")
    }
}

/// A stable, time-ordered interaction id for an event: the event's own timestamp in the UUID v7
/// time field, the rest from a hash of the organization and the event id. A retried event maps
/// to the same id, so the store keeps it once; two organizations can never collide.
pub fn interaction_id(org: OrganizationId, event: &uuid::Uuid, ts: Timestamp) -> InteractionId {
    let mut hasher = Sha256::new();
    hasher.update(org.as_bytes());
    hasher.update(event.as_bytes());
    let hash = hasher.finalize();
    let ms = u64::try_from(ts.as_millis().clamp(0, (1 << 48) - 1)).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&hash[..10]);
    bytes[6] = (bytes[6] & 0x0F) | 0x70; // version 7
    bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 4122 variant
    InteractionId::from_bytes(bytes)
}

fn products_of(data: &EventData) -> Vec<ProductRef> {
    match data {
        EventData::ProductView { product } => vec![product.clone()],
        EventData::Click { product: Some(p), .. } => vec![p.clone()],
        EventData::AddToCart { item } | EventData::RemoveFromCart { item } => vec![item.product.clone()],
        EventData::CheckoutStarted { items, .. } | EventData::Purchase { items, .. } => {
            items.iter().map(|i| i.product.clone()).collect()
        }
        _ => Vec::new(),
    }
}

impl Ingest {
    /// Wires the service.
    pub fn new(
        organizations: Arc<dyn OrganizationStore>,
        interactions: Arc<dyn InteractionStore>,
        sessions: Arc<dyn WebSessionStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { organizations, interactions, sessions, queue, clock, limits: Limits::default() }
    }

    fn to_interaction(
        &self,
        org: OrganizationId,
        event: &TrackerEvent,
        skew_ms: i64,
        now: Timestamp,
    ) -> Result<NewInteraction, ApiError> {
        // The client clock may be off: shift by the batch's measured skew, then clamp to a
        // plausible window so one bad clock cannot plant events in the far past or future.
        let occurred = event.ts.add_millis(skew_ms).clamp(now.add_millis(-7 * DAY_MS), now.add_millis(60_000));
        let payload = serde_json::to_value(event).map_err(|e| ApiError::internal("cannot encode event", &e))?;
        Ok(NewInteraction {
            id: interaction_id(org, &event.id, event.ts),
            channel: Channel::Web,
            kind: event.data.kind(),
            occurred_at: occurred,
            session_id: Some(event.session_id.clone()),
            products: products_of(&event.data),
            confidence: None,
            tags: vec!["web".into()],
            payload,
            analysis: None,
        })
    }

    /// Accepts a batch for the caller's organization.
    pub async fn ingest(
        &self,
        caller: &Caller,
        origin: Option<&str>,
        key: KeyKind,
        body: &Bytes,
    ) -> Result<Receipt, ApiError> {
        let pass = caller.ingest_tenant()?;
        let org = self.organizations.get(&pass).await?;
        match (origin, key) {
            (Some(_), KeyKind::Secret) => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "secret keys must never be used from a web page; use a publishable key",
                ));
            }
            (Some(o), _) if !TrustedOrigins::new(&org.allowed_origins, false).is_trusted(o) => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "this site is not among the organization's allowed origins",
                ));
            }
            (None, KeyKind::Publishable) => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "publishable keys are used from the organization's sites (Origin required)",
                ));
            }
            _ => {}
        }
        let envelope: crow_core::event::Envelope = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("not a tracker batch: {e}")))?;
        envelope.check(&self.limits).map_err(|e| ApiError::new(ErrorCode::ValidationFailed, e.to_string()))?;
        let own = org.id.to_string();
        let names_other = |claimed: Option<&str>| claimed.is_some_and(|c| c != own);
        if names_other(envelope.organization_id.as_deref())
            || envelope.events.iter().any(|e| names_other(e.get("organizationId").and_then(|v| v.as_str())))
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this batch names another organization; events belong to the key's organization",
            ));
        }
        let now = self.clock.now();
        let skew = now.millis_since(envelope.sent_at).clamp(-DAY_MS, DAY_MS);
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut kept = Vec::new();
        let mut activity = Vec::new();
        for (index, raw) in envelope.events.into_iter().enumerate() {
            let text = raw.to_string();
            match parse_event(raw, &self.limits) {
                Ok(event) => {
                    let interaction = self.to_interaction(org.id, &event, skew, now)?;
                    let cart_delta = match &event.data {
                        EventData::AddToCart { item } => i64::from(item.quantity),
                        EventData::RemoveFromCart { item } => -i64::from(item.quantity),
                        _ => 0,
                    };
                    activity.push(SessionActivity {
                        session_id: event.session_id.clone(),
                        at: interaction.occurred_at,
                        url: event.url.clone(),
                        kind: interaction.kind,
                        cart_delta,
                    });
                    accepted.push(interaction);
                }
                Err(e) => {
                    kept.push(RejectedEvent {
                        raw: text.chars().take(MAX_REJECTED_BYTES).collect(),
                        reason: e.to_string(),
                        received_at: now,
                    });
                    rejected.push(Rejection { index, field: e.field, reason: e.reason });
                }
            }
        }
        self.interactions.store_rejected(&pass, &kept).await?;
        if !accepted.is_empty() {
            let batch = InteractionBatch { organization_id: org.id, interactions: accepted.clone() };
            let message = serde_json::to_vec(&batch).map_err(|e| ApiError::internal("cannot encode batch", &e))?;
            // Acknowledged only once durably enqueued; a full or failing queue asks for a retry.
            self.queue.publish(topics::INTERACTIONS, &[Bytes::from(message)]).await.map_err(|e| {
                tracing::warn!(error = %crate::http::error::chain(&e), "cannot enqueue interactions");
                ApiError::new(ErrorCode::ServiceUnavailable, "cannot accept events right now; retry")
                    .retry_after(std::time::Duration::from_secs(2))
            })?;
        }
        // After the events are safe in the queue: the session state feeds the idle summary.
        self.sessions.record(&pass, &activity).await?;
        Ok(Receipt { accepted: accepted.len(), rejected })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_event_and_distinct_per_organization() {
        let event = uuid::Uuid::now_v7();
        let (a, b) = (OrganizationId::new(), OrganizationId::new());
        let ts = Timestamp::from_millis(1_795_373_276_123);
        assert_eq!(interaction_id(a, &event, ts), interaction_id(a, &event, ts));
        assert_ne!(interaction_id(a, &event, ts), interaction_id(b, &event, ts));
        let id = interaction_id(a, &event, ts);
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert!(interaction_id(a, &uuid::Uuid::now_v7(), ts.add_millis(1)) > id, "time-ordered");
    }
}
