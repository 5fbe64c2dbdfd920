//! Ingest logic over the ports.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crow_core::domain::{Channel, InteractionBatch, InteractionKind, NewInteraction, Organization, ProductRef};
use crow_core::event::{EventData, Limits, TrackerEvent, check_batch, parse_event_str};
use crow_core::id::InteractionId;
use crow_core::ports::clock::Clock;
use crow_core::ports::queue::{Queue, topics};
use crow_core::ports::store::{InteractionStore, OrganizationStore, RejectedEvent, SessionActivity};
use crow_core::tenancy::Caller;
use crow_core::{ErrorCode, OrganizationId, TenantPass, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::http::ApiError;
use crate::http::origins::TrustedOrigins;
use crate::memo::Memo;

/// Largest batch body accepted.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Raw rejected events are kept up to this size.
const MAX_REJECTED_BYTES: usize = 8 * 1024;

/// The envelope as ingest reads it: events kept as borrowed raw JSON.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBatch<'a> {
    v: u16,
    sent_at: Timestamp,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

fn foreign() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "this batch names another organization; events belong to the key's organization",
    )
}

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
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    /// Organizations by id for [`ORG_TTL`]: every batch needs its allowed origins, and reading
    /// them from the store per request was a measurable share of ingest's cost.
    orgs: Arc<Memo<OrganizationId, Arc<Organization>>>,
    /// Load shedding: the interaction queue's depth, read at most every [`BACKLOG_TTL`].
    backlog: Arc<Memo<(), u64>>,
    max_backlog: u64,
}

/// Queued interaction batches (of up to 100 events each) beyond which ingest answers 503 with
/// `Retry-After` instead of accepting more: the consumer is far behind, and trackers keep their
/// events and retry with backoff, so shedding costs no data and lets the system catch up.
pub const MAX_BACKLOG: u64 = 20_000;
/// How stale the queue depth ingest sheds on may be (counting it per request would cost more
/// than the shedding saves).
const BACKLOG_TTL: Duration = Duration::from_secs(1);
/// What a shed request is told to wait.
const SHED_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long a changed allowed-origins list may take to reach ingest.
const ORG_TTL: Duration = Duration::from_secs(5);
/// Organizations cached at most.
const ORG_CACHE_MAX: usize = 10_000;

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

/// A stored web interaction's effect on its session, read back from the tracker event in its
/// payload: what the session summary needs.
pub fn activity_of(interaction: &NewInteraction) -> Option<SessionActivity> {
    if interaction.channel != Channel::Web {
        return None;
    }
    let quantity = || interaction.payload["item"]["quantity"].as_i64().unwrap_or(0);
    let cart_delta = match interaction.kind {
        InteractionKind::AddToCart => quantity(),
        InteractionKind::RemoveFromCart => -quantity(),
        _ => 0,
    };
    Some(SessionActivity {
        session_id: interaction.session_id.clone()?,
        at: interaction.occurred_at,
        url: interaction.payload["url"].as_str().unwrap_or_default().to_owned(),
        kind: interaction.kind,
        cart_delta,
    })
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
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            organizations,
            interactions,
            queue,
            clock,
            limits: Limits::default(),
            orgs: Arc::new(Memo::new(ORG_TTL, ORG_CACHE_MAX)),
            backlog: Arc::new(Memo::new(BACKLOG_TTL, 1)),
            max_backlog: MAX_BACKLOG,
        }
    }

    /// Sheds load beyond `max` queued batches, reading the depth at most every `ttl`.
    pub fn with_backlog_limit(mut self, max: u64, ttl: Duration) -> Self {
        (self.max_backlog, self.backlog) = (max, Arc::new(Memo::new(ttl, 1)));
        self
    }

    /// True when the interaction queue is deeper than the limit. A failing depth read does not
    /// shed: publishing will tell.
    async fn overloaded(&self) -> bool {
        let depth = match self.backlog.get(&()) {
            Some(n) => n,
            None => {
                let n = self.queue.pending(topics::INTERACTIONS).await.unwrap_or(0);
                self.backlog.insert((), n);
                n
            }
        };
        depth >= self.max_backlog
    }

    async fn organization(&self, pass: &TenantPass) -> Result<Arc<Organization>, ApiError> {
        if let Some(org) = self.orgs.get(&pass.organization_id()) {
            return Ok(org);
        }
        let org = Arc::new(self.organizations.get(pass).await?);
        self.orgs.insert(pass.organization_id(), Arc::clone(&org));
        Ok(org)
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
        let org = self.organization(&pass).await?;
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
        if self.overloaded().await {
            return Err(ApiError::new(ErrorCode::ServiceUnavailable, "ingest is catching up; retry later")
                .retry_after(SHED_RETRY_AFTER));
        }
        // Events stay borrowed raw JSON until each is parsed on its own: no intermediate
        // `Value` tree, and a rejected event's text is at hand to keep.
        let batch: RawBatch<'_> = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("not a tracker batch: {e}")))?;
        check_batch(batch.v, batch.events.len(), &self.limits)
            .map_err(|e| ApiError::new(ErrorCode::ValidationFailed, e.to_string()))?;
        let own = org.id.to_string();
        let names_other = |claimed: Option<&str>| claimed.is_some_and(|c| c != own);
        if names_other(batch.organization_id.as_deref()) {
            return Err(foreign());
        }
        let now = self.clock.now();
        let skew = now.millis_since(batch.sent_at).clamp(-DAY_MS, DAY_MS);
        let mut accepted = Vec::with_capacity(batch.events.len());
        let mut rejected = Vec::new();
        let mut kept = Vec::new();
        for (index, raw) in batch.events.iter().enumerate() {
            match parse_event_str(raw.get(), &self.limits) {
                Ok(event) if names_other(event.organization_id.as_deref()) => return Err(foreign()),
                Ok(event) => accepted.push(self.to_interaction(org.id, &event, skew, now)?),
                Err(e) => {
                    kept.push(RejectedEvent {
                        raw: raw.get().chars().take(MAX_REJECTED_BYTES).collect(),
                        reason: e.to_string(),
                        received_at: now,
                    });
                    rejected.push(Rejection { index, field: e.field, reason: e.reason });
                }
            }
        }
        self.interactions.store_rejected(&pass, &kept).await?;
        let count = accepted.len();
        if count > 0 {
            let batch = InteractionBatch { organization_id: org.id, interactions: accepted };
            let message = serde_json::to_vec(&batch).map_err(|e| ApiError::internal("cannot encode batch", &e))?;
            // Acknowledged only once durably enqueued; a full or failing queue asks for a retry.
            self.queue.publish(topics::INTERACTIONS, &[Bytes::from(message)]).await.map_err(|e| {
                tracing::warn!(error = %crate::http::error::chain(&e), "cannot enqueue interactions");
                ApiError::new(ErrorCode::ServiceUnavailable, "cannot accept events right now; retry")
                    .retry_after(std::time::Duration::from_secs(2))
            })?;
        }
        // Web sessions are folded from the queue by the interaction consumer (`activity_of`),
        // so a request costs one write: the enqueue.
        Ok(Receipt { accepted: count, rejected })
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
