//! Organizations service: the internal organization records every tenant-scoped store keys on.
//!
//! Built so far: the consumer that creates the internal record when the auth service creates an
//! organization (the auth service's transactional outbox publishes `org-sync`; creation is
//! idempotent on the auth id, so redeliveries are harmless). Its HTTP endpoints (CRUD, members,
//! `by-auth-id`, AI context) are not built yet: it answers `/health` and `/ready` only.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use crow_core::domain::Organization;
use crow_core::ports::queue::{Delivery, topics};
use crow_core::ports::store::OrganizationStore;

use super::auth::service::OrganizationSync;
use crate::app::AppState;
use crate::runtime::Handler;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Organizations)
}

/// Creates internal organization records from `org-sync` messages.
#[derive(Clone)]
pub struct SyncConsumer {
    store: Arc<dyn OrganizationStore>,
}

impl std::fmt::Debug for SyncConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncConsumer")
    }
}

impl SyncConsumer {
    /// A consumer writing to `store`.
    pub fn new(store: Arc<dyn OrganizationStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler for SyncConsumer {
    fn topic(&self) -> &'static str {
        topics::ORG_SYNC
    }

    async fn handle(&self, delivery: &Delivery) -> Result<(), String> {
        let sync: OrganizationSync = serde_json::from_slice(&delivery.payload)
            .map_err(|e| format!("malformed org-sync message: {e}"))?;
        let org = sync.organization;
        let record = Organization {
            // One id names the tenant everywhere; `auth_id` keeps the by-auth-id lookup real.
            id: org.id,
            auth_id: org.id.to_string(),
            name: org.name,
            slug: org.slug,
            logo: org.logo,
            metadata: org.metadata,
            allowed_origins: Vec::new(),
            ai_context: None,
            created_at: org.created_at,
            updated_at: org.created_at,
        };
        self.store
            .create(&record)
            .await
            .map(|_| ())
            .map_err(|e| crate::http::error::chain(&e))
    }
}
