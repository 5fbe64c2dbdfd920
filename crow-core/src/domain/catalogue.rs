//! The product catalogue and the jobs that crawl a shop to fill it.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::id::{CrawlerJobId, OrganizationId, ProductId};
use crate::time::Timestamp;

/// A product in an organization's catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Id.
    pub id: ProductId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Stock-keeping unit, unique per organization when present.
    pub sku: Option<String>,
    /// Product page.
    pub url: Option<String>,
    /// Price in minor units (cents), avoiding float money.
    pub price_minor: Option<i64>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Category path.
    pub category: Option<String>,
    /// Image object keys or URLs.
    pub images: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Where a crawl stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrawlerJobStatus {
    /// Enqueued.
    Queued,
    /// Being crawled.
    Running,
    /// Finished.
    Completed,
    /// Gave up; see `error`.
    Failed,
}

/// A request to crawl a shop and extract its products.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrawlerJob {
    /// Id.
    pub id: CrawlerJobId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Start URL.
    pub url: String,
    /// Status.
    pub status: CrawlerJobStatus,
    /// Pages fetched.
    pub pages_crawled: u32,
    /// Products extracted.
    pub products_found: u32,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Finished.
    pub finished_at: Option<Timestamp>,
}
