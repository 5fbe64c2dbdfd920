//! The interaction-queue consumer.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use crow_core::domain::{InteractionBatch, NewInteraction};
use crow_core::ports::queue::{Delivery, topics};
use crow_core::ports::store::{InteractionStore, WebSessionStore};
use crow_core::{OrganizationId, TenantPass};

use super::analysis::analyse;
use crate::runtime::Handler;

/// Analyses and stores queued interactions.
#[derive(Clone)]
pub struct Consumer {
    store: Arc<dyn InteractionStore>,
    sessions: Arc<dyn WebSessionStore>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interactions::Consumer")
    }
}

impl Consumer {
    /// A consumer writing interactions to `store` and folding web interactions into `sessions`
    /// (the per-session state web ingest's idle sweeper summarises).
    pub fn new(store: Arc<dyn InteractionStore>, sessions: Arc<dyn WebSessionStore>) -> Self {
        Self { store, sessions }
    }
}

#[async_trait]
impl Handler for Consumer {
    fn topic(&self) -> &'static str {
        topics::INTERACTIONS
    }

    fn batch_size(&self) -> usize {
        64
    }

    async fn handle(&self, delivery: &Delivery) -> Result<(), String> {
        self.handle_batch(std::slice::from_ref(delivery)).await.pop().unwrap_or(Ok(()))
    }

    /// All the interactions of a received batch, one insert per organization: the store's
    /// batched path instead of one transaction per queued message.
    async fn handle_batch(&self, deliveries: &[Delivery]) -> Vec<Result<(), String>> {
        let mut results: Vec<Result<(), String>> = vec![Ok(()); deliveries.len()];
        let mut by_org: BTreeMap<OrganizationId, (Vec<usize>, Vec<NewInteraction>)> = BTreeMap::new();
        for (i, delivery) in deliveries.iter().enumerate() {
            match serde_json::from_slice::<InteractionBatch>(&delivery.payload) {
                Ok(batch) => {
                    let entry = by_org.entry(batch.organization_id).or_default();
                    entry.0.push(i);
                    entry.1.extend(batch.interactions.into_iter().map(|mut item| {
                        if item.analysis.is_none() {
                            item.analysis = Some(analyse(&item));
                        }
                        item
                    }));
                }
                Err(e) => results[i] = Err(format!("malformed interaction batch: {e}")),
            }
        }
        for (org, (indices, items)) in by_org {
            let pass = TenantPass::system(org, "interaction queue: organization fixed by the authenticated producer");
            let stored = self.store.insert_batch(&pass, &items).await;
            if let Ok(outcome) = &stored
                && outcome.duplicates > 0
            {
                tracing::debug!(duplicates = outcome.duplicates, "redelivered interactions skipped");
            }
            // Sessions after the interactions: a failure here redelivers the batch, whose
            // interactions are then duplicates (kept once) and whose activity is folded again.
            let activity: Vec<_> = items.iter().filter_map(crate::services::ingest::service::activity_of).collect();
            let recorded = match stored {
                Ok(_) if activity.is_empty() => Ok(()),
                Ok(_) => self.sessions.record(&pass, &activity).await,
                Err(e) => Err(e),
            };
            match recorded {
                Ok(()) => {}
                Err(e) => {
                    let reason = crate::http::error::chain(&e);
                    for i in indices {
                        results[i] = Err(reason.clone());
                    }
                }
            }
        }
        results
    }
}
