//! Storage ports, one per aggregate. Every org-scoped method takes a [`TenantPass`] and confines
//! its query to the pass's organization, so a row of another tenant is unreachable by
//! construction — the BOLA check cannot be skipped by a handler that forgets it.
//!
//! Stores for the remaining aggregates (users and sessions, products, patterns, …) are added by
//! the issues that build their services, following the same shape.

use alloc::string::String;
use alloc::vec::Vec;

use async_trait::async_trait;

use super::BoxError;
use crate::domain::{Count, CountBy, Interaction, InteractionQuery, NewInteraction, Organization, Page};
use crate::id::{InteractionId, OrganizationId};
use crate::tenancy::TenantPass;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row for this tenant.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. a duplicate slug).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input breaks a rule the store enforces (e.g. a malformed cursor).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The backend failed; retrying later may work.
    #[error("storage backend failed")]
    Backend(#[source] BoxError),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// How many rows an idempotent batch insert wrote, and how many it had already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// Rows written now.
    pub inserted: u64,
    /// Rows skipped because their id was already stored (a redelivery).
    pub duplicates: u64,
}

/// Interactions of every channel.
#[async_trait]
pub trait InteractionStore: Send + Sync {
    /// Stores a batch in one transaction. Idempotent on `id`: a redelivered interaction is
    /// counted as a duplicate and not stored twice.
    async fn insert_batch(&self, pass: &TenantPass, items: &[NewInteraction]) -> StoreResult<InsertOutcome>;

    /// One interaction of the pass's organization.
    async fn get(&self, pass: &TenantPass, id: InteractionId) -> StoreResult<Interaction>;

    /// Newest first, filtered, with cursor pagination.
    async fn list(&self, pass: &TenantPass, query: &InteractionQuery) -> StoreResult<Page<Interaction>>;

    /// Keeps events that failed validation (raw JSON, truncated, and the reason), so nothing a
    /// client sent is silently dropped.
    async fn store_rejected(&self, pass: &TenantPass, rejected: &[RejectedEvent]) -> StoreResult<()>;

    /// Interactions per kind or product over the query's filters, per time bucket of
    /// `bucket_ms` (aligned to the Unix epoch) when given. Ordered by bucket, then count
    /// (largest first), then key.
    async fn counts(
        &self,
        pass: &TenantPass,
        query: &InteractionQuery,
        by: CountBy,
        bucket_ms: Option<i64>,
    ) -> StoreResult<Vec<Count>>;
}

/// One tracker event's effect on its web session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionActivity {
    /// The tracker's session id.
    pub session_id: String,
    /// When.
    pub at: crate::time::Timestamp,
    /// Page URL.
    pub url: String,
    /// What happened.
    pub kind: crate::domain::InteractionKind,
    /// Items added to (+) or removed from (−) the cart.
    pub cart_delta: i64,
}

/// An open web session, as its summary needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSession {
    /// Tenant.
    pub organization_id: OrganizationId,
    /// The tracker's session id.
    pub session_id: String,
    /// First event.
    pub started_at: crate::time::Timestamp,
    /// Last event.
    pub last_at: crate::time::Timestamp,
    /// Page views.
    pub pages: u32,
    /// The last page seen.
    pub exit_url: Option<String>,
    /// Items left in the cart.
    pub cart_items: i64,
    /// Whether an order was placed.
    pub purchased: bool,
    /// The last interaction kinds in arrival order (at most 10).
    pub recent: Vec<String>,
}

/// Open web sessions (the original's per-session Durable Object, as rows).
#[async_trait]
pub trait WebSessionStore: Send + Sync {
    /// Folds a batch's activity into the pass's sessions (closed sessions are left alone).
    async fn record(&self, pass: &TenantPass, activity: &[SessionActivity]) -> StoreResult<()>;
    /// Open sessions of every organization idle since before `before`, oldest first — for the
    /// sweeper, which closes them with a summary.
    async fn idle(&self, before: crate::time::Timestamp, limit: usize) -> StoreResult<Vec<WebSession>>;
    /// Marks a session closed.
    async fn close(&self, pass: &TenantPass, session_id: &str, at: crate::time::Timestamp) -> StoreResult<()>;
}

/// An event ingest could not accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedEvent {
    /// The event as received (truncated).
    pub raw: String,
    /// Where and why it failed.
    pub reason: String,
    /// When it arrived.
    pub received_at: crate::time::Timestamp,
}

/// Organizations: the tenants themselves.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Creates the organization. Idempotent on `auth_id`: creating the same auth organization
    /// again returns the stored record, so a retried sync never duplicates a tenant.
    async fn create(&self, organization: &Organization) -> StoreResult<Organization>;

    /// The pass's organization.
    async fn get(&self, pass: &TenantPass) -> StoreResult<Organization>;

    /// Resolves the auth service's organization id to the internal one. This is how the gateway
    /// learns the tenant from a verified session, so it takes no pass.
    async fn resolve_auth_id(&self, auth_id: &str) -> StoreResult<OrganizationId>;

    /// Replaces the editable fields of the pass's organization.
    async fn update(&self, pass: &TenantPass, organization: &Organization) -> StoreResult<Organization>;

    /// Deletes the pass's organization and, by cascade, every record of the tenant.
    async fn delete(&self, pass: &TenantPass) -> StoreResult<()>;

    /// Every organization id, for schedulers that fan out per tenant.
    async fn list_ids(&self) -> StoreResult<Vec<OrganizationId>>;
}
