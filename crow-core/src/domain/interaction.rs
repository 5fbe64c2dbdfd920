//! Interactions: one human–product signal from any channel, with its analysis.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::id::{InteractionId, OrganizationId, ProductId};
use crate::time::Timestamp;

/// Where a signal came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The browser tracker on a web shop.
    Web,
    /// An in-store camera, described by vision AI.
    Cctv,
    /// A social-media post found by the collector.
    Social,
}

impl Channel {
    /// Wire and storage form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Cctv => "cctv",
            Channel::Social => "social",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "web" => Some(Channel::Web),
            "cctv" => Some(Channel::Cctv),
            "social" => Some(Channel::Social),
            _ => None,
        }
    }
}

macro_rules! interaction_kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal),+ $(,)?) => {
        /// What happened. Closed on purpose: analysis and patterns reason over a known set;
        /// a shop's own events are `Custom` with their name in the payload.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum InteractionKind { $($(#[$doc])* $variant,)+ }

        impl InteractionKind {
            /// Every kind.
            pub const ALL: &'static [InteractionKind] = &[$(InteractionKind::$variant,)+];

            /// Wire and storage form.
            pub const fn as_str(self) -> &'static str {
                match self { $(InteractionKind::$variant => $wire,)+ }
            }

            /// Parses the wire form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some(InteractionKind::$variant),)+ _ => None }
            }
        }
    };
}

interaction_kinds! {
    /// A page was shown (including SPA route changes).
    PageView = "page_view",
    /// A product page or product card was seen.
    ProductView = "product_view",
    /// A click on an element.
    Click = "click",
    /// Three or more quick clicks in one spot: frustration.
    RageClick = "rage_click",
    /// A click that changed nothing.
    DeadClick = "dead_click",
    /// How far down the page the visitor got.
    Scroll = "scroll",
    /// Time on page and visibility.
    Engagement = "engagement",
    /// A form was submitted (never its values).
    FormSubmit = "form_submit",
    /// A product went into the cart.
    AddToCart = "add_to_cart",
    /// A product left the cart.
    RemoveFromCart = "remove_from_cart",
    /// Checkout began.
    CheckoutStarted = "checkout_started",
    /// An order was placed.
    Purchase = "purchase",
    /// A Core Web Vitals measurement.
    WebVital = "web_vital",
    /// A JavaScript error on the page.
    JsError = "js_error",
    /// The visitor identified themselves.
    Identify = "identify",
    /// Summary written when a web session closes.
    SessionSummary = "session_summary",
    /// A shopper seen with a product in store.
    InStoreObservation = "in_store_observation",
    /// A post, review or comment about a product.
    SocialMention = "social_mention",
    /// A shop-defined event.
    Custom = "custom",
}

/// A reference to a product as the source saw it; the interaction service resolves it to a
/// catalogue product by id, SKU or URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRef {
    /// Catalogue id once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    /// The shop's own product id (`data-crow-product`, schema.org `productID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Name as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ProductRef {
    /// The key interactions are grouped by: the catalogue id once resolved, else the shop's id,
    /// else the SKU, else the URL. Counting by product uses it; filtering accepts any of them.
    pub fn key(&self) -> Option<String> {
        self.product_id
            .map(|id| id.to_string())
            .or_else(|| self.external_id.clone())
            .or_else(|| self.sku.clone())
            .or_else(|| self.url.clone())
    }
}

/// What interaction counts are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountBy {
    /// Interaction kind.
    Kind,
    /// Product key ([`ProductRef::key`]); interactions without a product are not counted, one
    /// with several products counts once for each.
    Product,
}

/// The time buckets counts can be split into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One day (UTC).
    Day,
    /// Seven days, aligned to the Unix epoch (a Thursday).
    Week,
}

impl Bucket {
    /// The wire name: `hour`, `day`, `week`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Bucket::Hour, Bucket::Day, Bucket::Week].into_iter().find(|b| b.as_str() == s)
    }

    /// Its length in milliseconds.
    pub const fn millis(self) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            Bucket::Hour => HOUR,
            Bucket::Day => 24 * HOUR,
            Bucket::Week => 7 * 24 * HOUR,
        }
    }
}

impl CountBy {
    /// The wire name: `kind`, `product`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CountBy::Kind => "kind",
            CountBy::Product => "product",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [CountBy::Kind, CountBy::Product].into_iter().find(|b| b.as_str() == s)
    }
}

/// One count: a group key, optionally within a time bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    /// The kind or product key.
    pub key: String,
    /// Start of the time bucket; `None` when not bucketed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    /// How many.
    pub count: u64,
}

/// Overall feeling of an interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    /// Satisfied, enthusiastic.
    Positive,
    /// Neither.
    Neutral,
    /// Frustrated, unhappy.
    Negative,
}

/// What the person seems to be trying to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Looking around.
    Browse,
    /// Comparing or studying a product.
    Research,
    /// Moving towards buying.
    Purchase,
    /// Bought.
    Converted,
    /// Leaving without buying.
    Abandon,
    /// Hit a problem.
    Support,
    /// Not enough signal.
    Unknown,
}

/// The analysis port's reading of an interaction, in the organization's context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// Feeling.
    pub sentiment: Sentiment,
    /// Goal.
    pub intent: Intent,
    /// One-sentence summary.
    pub summary: String,
    /// 0..=1 confidence of the analysis.
    pub confidence: f32,
    /// Which analyser produced it (`rules-v1`, a model name), for reproducibility.
    pub model: String,
}

/// An interaction as a producer submits it; the store adds the tenant and receipt time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInteraction {
    /// Idempotency key: inserting the same id twice stores it once.
    pub id: InteractionId,
    /// Channel.
    pub channel: Channel,
    /// Kind.
    pub kind: InteractionKind,
    /// When it happened (clamped by ingest when the client clock is far off).
    pub occurred_at: Timestamp,
    /// Web session id, camera id, or social thread id.
    pub session_id: Option<String>,
    /// Products involved.
    pub products: Vec<ProductRef>,
    /// 0..=1 confidence of the source (vision, extraction); `None` for direct signals.
    pub confidence: Option<f32>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Source-specific properties.
    pub payload: serde_json::Value,
    /// The analysis, when the producer already ran it.
    #[serde(default)]
    pub analysis: Option<Analysis>,
}

/// The message on the interaction queue: one producer batch for one organization. The
/// organization was fixed by the authenticated producer (ingest, CCTV, social).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionBatch {
    /// Tenant.
    pub organization_id: OrganizationId,
    /// The interactions.
    pub interactions: Vec<NewInteraction>,
}

/// A stored interaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interaction {
    /// Id.
    pub id: InteractionId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Channel.
    pub channel: Channel,
    /// Kind.
    pub kind: InteractionKind,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// When CROW stored it.
    pub received_at: Timestamp,
    /// Session.
    pub session_id: Option<String>,
    /// Products involved.
    pub products: Vec<ProductRef>,
    /// Source confidence.
    pub confidence: Option<f32>,
    /// Tags.
    pub tags: Vec<String>,
    /// Properties.
    pub payload: serde_json::Value,
    /// Analysis, once run.
    pub analysis: Option<Analysis>,
}

/// Filters for listing interactions, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionQuery {
    /// Inclusive lower bound on `occurred_at`.
    pub since: Option<Timestamp>,
    /// Exclusive upper bound on `occurred_at`.
    pub until: Option<Timestamp>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only this kind.
    pub kind: Option<InteractionKind>,
    /// Only this session.
    pub session_id: Option<String>,
    /// Only interactions linked to this product, named by any of its keys: catalogue id,
    /// the shop's own id, SKU or product URL (see [`ProductRef::key`]).
    pub product: Option<String>,
    /// Page size; services clamp it.
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
}

/// One page of results with the cursor for the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `None` at the end.
    pub next_cursor: Option<String>,
}
