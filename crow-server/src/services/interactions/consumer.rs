//! The interaction-queue consumer.

use std::sync::Arc;

use async_trait::async_trait;
use crow_core::TenantPass;
use crow_core::domain::InteractionBatch;
use crow_core::ports::queue::{Delivery, topics};
use crow_core::ports::store::InteractionStore;

use super::analysis::analyse;
use crate::runtime::Handler;

/// Analyses and stores queued interactions.
#[derive(Clone)]
pub struct Consumer {
    store: Arc<dyn InteractionStore>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interactions::Consumer")
    }
}

impl Consumer {
    /// A consumer writing to `store`.
    pub fn new(store: Arc<dyn InteractionStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler for Consumer {
    fn topic(&self) -> &'static str {
        topics::INTERACTIONS
    }

    async fn handle(&self, delivery: &Delivery) -> Result<(), String> {
        let mut batch: InteractionBatch =
            serde_json::from_slice(&delivery.payload).map_err(|e| format!("malformed interaction batch: {e}"))?;
        for item in &mut batch.interactions {
            if item.analysis.is_none() {
                item.analysis = Some(analyse(item));
            }
        }
        let pass = TenantPass::system(
            batch.organization_id,
            "interaction queue: organization fixed by the authenticated producer",
        );
        let outcome =
            self.store.insert_batch(&pass, &batch.interactions).await.map_err(|e| crate::http::error::chain(&e))?;
        if outcome.duplicates > 0 {
            tracing::debug!(duplicates = outcome.duplicates, "redelivered interactions skipped");
        }
        Ok(())
    }
}
