//! The consumer that creates the internal organization record when the auth service creates an
//! organization: the auth service's transactional outbox publishes `org-sync`, and creation is
//! idempotent on the auth id, so redeliveries are harmless.

use std::sync::Arc;

use async_trait::async_trait;
use crow_core::domain::Organization;
use crow_core::ports::queue::{Delivery, topics};
use crow_core::ports::store::OrganizationStore;

use crate::runtime::Handler;
use crate::services::auth::service::OrganizationSync;

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
        let sync: OrganizationSync =
            serde_json::from_slice(&delivery.payload).map_err(|e| format!("malformed org-sync message: {e}"))?;
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
        self.store.create(&record).await.map(|_| ()).map_err(|e| crate::http::error::chain(&e))
    }
}
