//! The tracker event schema, version 1: what the browser tracker sends and web ingest accepts.
//!
//! One definition serves both sides (the tracker compiles this crate to wasm32), so a field can
//! not drift between sender and receiver. The envelope carries a schema version `v`; ingest
//! rejects versions it does not know with a clear error instead of guessing.
//!
//! Ingest parses a batch in two steps — the envelope, then each event on its own — so one bad
//! event is reported and kept aside while the valid ones in the same batch are accepted.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{InteractionKind, ProductRef};
use crate::time::Timestamp;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u16 = 1;

/// A batch as sent by the tracker: `{ "v": 1, "sentAt": ..., "events": [...] }`.
///
/// `events` stays raw JSON here so each event can be validated on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Schema version.
    pub v: u16,
    /// Client clock when the batch was sent; ingest uses it to correct client clock skew.
    pub sent_at: Timestamp,
    /// Never needed: the key decides the organization. A batch that names one must name the
    /// key's own, so a misconfigured or malicious sender is told rather than silently rerouted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The events.
    pub events: Vec<serde_json::Value>,
}

/// One tracker event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerEvent {
    /// Unique per event, generated in the browser; retries reuse it so nothing is counted twice.
    pub id: Uuid,
    /// Client time of the event.
    pub ts: Timestamp,
    /// Cookieless session id (sessionStorage, rotated after 30 idle minutes).
    pub session_id: String,
    /// Set after `crow.identify(id)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Page URL (without fragment).
    pub url: String,
    /// Referrer, on page views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Page title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Never needed (the key decides the organization); when present it must be the key's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub data: EventData,
}

/// Web vitals the tracker reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Vital {
    /// Largest Contentful Paint (ms).
    Lcp,
    /// Cumulative Layout Shift (unitless).
    Cls,
    /// Interaction to Next Paint (ms).
    Inp,
}

/// A line of a cart or order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The product.
    pub product: ProductRef,
    /// How many.
    pub quantity: u32,
    /// Unit price (major units, as the page shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
}

/// The event-specific part, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum EventData {
    /// Page shown (also SPA route changes).
    PageView {},
    /// Product page or card seen (schema.org Product on the page).
    ProductView {
        /// The product.
        product: ProductRef,
    },
    /// A click.
    Click {
        /// Short CSS-like path of the element.
        path: String,
        /// Trimmed visible text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// Product the element belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<ProductRef>,
    },
    /// ≥ 3 clicks within 1 s and 30 px.
    RageClick {
        /// Element path.
        path: String,
        /// Clicks in the burst.
        count: u32,
    },
    /// A click with no DOM or URL change within 2.5 s.
    DeadClick {
        /// Element path.
        path: String,
    },
    /// Deepest scroll so far on this page.
    Scroll {
        /// 0..=100.
        depth_pct: u8,
    },
    /// Time on page, sent on hide/leave.
    Engagement {
        /// Visible time.
        active_ms: u64,
        /// Total time since page view.
        total_ms: u64,
    },
    /// A form was submitted. Field values are never captured.
    FormSubmit {
        /// Form id or path.
        form: String,
        /// Number of fields.
        field_count: u32,
    },
    /// Product added to cart.
    AddToCart {
        /// What was added.
        item: LineItem,
    },
    /// Product removed from cart.
    RemoveFromCart {
        /// What was removed.
        item: LineItem,
    },
    /// Checkout began.
    CheckoutStarted {
        /// Cart lines.
        items: Vec<LineItem>,
        /// Cart value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<f64>,
        /// ISO 4217.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// Order placed.
    Purchase {
        /// Shop's order id.
        order_id: String,
        /// Order lines.
        items: Vec<LineItem>,
        /// Order value.
        value: f64,
        /// ISO 4217.
        currency: String,
    },
    /// A web-vitals measurement.
    WebVital {
        /// Which vital.
        name: Vital,
        /// Value.
        value: f64,
    },
    /// An uncaught error on the page.
    JsError {
        /// Error message (truncated).
        message: String,
        /// Script URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// Line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
    },
    /// `crow.identify(id)`.
    Identify {},
    /// `crow.track(name, props)`.
    Custom {
        /// Event name.
        name: String,
        /// Properties (flat JSON values).
        #[serde(default)]
        props: BTreeMap<String, serde_json::Value>,
    },
}

impl EventData {
    /// The interaction kind this event becomes.
    pub const fn kind(&self) -> InteractionKind {
        match self {
            EventData::PageView {} => InteractionKind::PageView,
            EventData::ProductView { .. } => InteractionKind::ProductView,
            EventData::Click { .. } => InteractionKind::Click,
            EventData::RageClick { .. } => InteractionKind::RageClick,
            EventData::DeadClick { .. } => InteractionKind::DeadClick,
            EventData::Scroll { .. } => InteractionKind::Scroll,
            EventData::Engagement { .. } => InteractionKind::Engagement,
            EventData::FormSubmit { .. } => InteractionKind::FormSubmit,
            EventData::AddToCart { .. } => InteractionKind::AddToCart,
            EventData::RemoveFromCart { .. } => InteractionKind::RemoveFromCart,
            EventData::CheckoutStarted { .. } => InteractionKind::CheckoutStarted,
            EventData::Purchase { .. } => InteractionKind::Purchase,
            EventData::WebVital { .. } => InteractionKind::WebVital,
            EventData::JsError { .. } => InteractionKind::JsError,
            EventData::Identify {} => InteractionKind::Identify,
            EventData::Custom { .. } => InteractionKind::Custom,
        }
    }
}

/// Size limits ingest enforces per event and batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events per batch.
    pub max_events: usize,
    /// Characters in any one string.
    pub max_string_chars: usize,
    /// Entries in `props`.
    pub max_props: usize,
    /// Lines in a cart or order.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_events: 100, max_string_chars: 2048, max_props: 64, max_items: 100 }
    }
}

/// Why an event (or the envelope) was rejected; `field` is a JSON path like `props.color`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct EventError {
    /// Where.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl EventError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

impl Envelope {
    /// Checks the envelope itself (version, batch size); events are checked one by one.
    pub fn check(&self, limits: &Limits) -> Result<(), EventError> {
        check_batch(self.v, self.events.len(), limits)
    }
}

/// The envelope rules — schema version and events per batch — for a reader that parsed the
/// envelope its own way (ingest keeps events as borrowed raw JSON).
pub fn check_batch(v: u16, events: usize, limits: &Limits) -> Result<(), EventError> {
    if v != SCHEMA_VERSION {
        return Err(EventError::new(
            "v",
            format!("unsupported schema version {v}; this server reads {SCHEMA_VERSION}"),
        ));
    }
    if events > limits.max_events {
        return Err(EventError::new("events", format!("{events} events in one batch; at most {}", limits.max_events)));
    }
    Ok(())
}

/// Parses and validates one event from its JSON text (no intermediate `Value`).
pub fn parse_event_str(text: &str, limits: &Limits) -> Result<TrackerEvent, EventError> {
    let event: TrackerEvent = serde_json::from_str(text).map_err(|e| EventError::new("event", format!("{e}")))?;
    event.validate(limits)?;
    Ok(event)
}

/// Parses and validates one raw event.
pub fn parse_event(raw: serde_json::Value, limits: &Limits) -> Result<TrackerEvent, EventError> {
    let event: TrackerEvent = serde_json::from_value(raw).map_err(|e| EventError::new("event", format!("{e}")))?;
    event.validate(limits)?;
    Ok(event)
}

impl TrackerEvent {
    /// Applies the limits to every string, map and list in the event.
    pub fn validate(&self, limits: &Limits) -> Result<(), EventError> {
        let s = |field: &str, v: &str| check_str(field, v, limits);
        let opt = |field: &str, v: &Option<String>| v.as_deref().map_or(Ok(()), |v| check_str(field, v, limits));
        if self.session_id.is_empty() {
            return Err(EventError::new("sessionId", "must not be empty"));
        }
        s("sessionId", &self.session_id)?;
        s("url", &self.url)?;
        opt("userId", &self.user_id)?;
        opt("referrer", &self.referrer)?;
        opt("title", &self.title)?;
        match &self.data {
            EventData::PageView {} | EventData::Identify {} => Ok(()),
            EventData::ProductView { product } => check_product("product", product, limits),
            EventData::Click { path, text, product } => {
                s("path", path)?;
                opt("text", text)?;
                product.as_ref().map_or(Ok(()), |p| check_product("product", p, limits))
            }
            EventData::RageClick { path, .. } | EventData::DeadClick { path } => s("path", path),
            EventData::Scroll { depth_pct } if *depth_pct > 100 => Err(EventError::new("depthPct", "must be 0..=100")),
            EventData::Scroll { .. } | EventData::Engagement { .. } => Ok(()),
            EventData::FormSubmit { form, .. } => s("form", form),
            EventData::AddToCart { item } | EventData::RemoveFromCart { item } => check_item("item", item, limits),
            EventData::CheckoutStarted { items, currency, value } => {
                check_items(items, limits)?;
                check_money(*value)?;
                opt("currency", currency)
            }
            EventData::Purchase { order_id, items, value, currency } => {
                s("orderId", order_id)?;
                check_items(items, limits)?;
                check_money(Some(*value))?;
                s("currency", currency)
            }
            EventData::WebVital { value, .. } if !value.is_finite() || *value < 0.0 => {
                Err(EventError::new("value", "must be a finite, non-negative number"))
            }
            EventData::WebVital { .. } => Ok(()),
            EventData::JsError { message, source, .. } => {
                s("message", message)?;
                opt("source", source)
            }
            EventData::Custom { name, props } => {
                if name.is_empty() {
                    return Err(EventError::new("name", "must not be empty"));
                }
                s("name", name)?;
                if props.len() > limits.max_props {
                    return Err(EventError::new(
                        "props",
                        format!("{} properties; at most {}", props.len(), limits.max_props),
                    ));
                }
                for (key, value) in props {
                    s("props", key)?;
                    check_prop(key, value, limits)?;
                }
                Ok(())
            }
        }
    }
}

fn check_str(field: &str, value: &str, limits: &Limits) -> Result<(), EventError> {
    // Bytes bound chars from above, so the cheap check settles almost every string.
    if value.len() > limits.max_string_chars && value.chars().count() > limits.max_string_chars {
        return Err(EventError::new(field, format!("longer than {} characters", limits.max_string_chars)));
    }
    Ok(())
}

fn check_product(field: &str, p: &ProductRef, limits: &Limits) -> Result<(), EventError> {
    for v in [&p.external_id, &p.sku, &p.url, &p.name].into_iter().flatten() {
        check_str(field, v, limits)?;
    }
    Ok(())
}

fn check_item(field: &str, item: &LineItem, limits: &Limits) -> Result<(), EventError> {
    check_product(field, &item.product, limits)?;
    check_money(item.price)
}

fn check_items(items: &[LineItem], limits: &Limits) -> Result<(), EventError> {
    if items.len() > limits.max_items {
        return Err(EventError::new("items", format!("{} lines; at most {}", items.len(), limits.max_items)));
    }
    items.iter().try_for_each(|i| check_item("items", i, limits))
}

fn check_money(value: Option<f64>) -> Result<(), EventError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(EventError::new("value", "must be a finite, non-negative amount")),
        _ => Ok(()),
    }
}

/// Custom properties are flat: strings, numbers, booleans, null — no nested objects or arrays,
/// which keeps them queryable and their size predictable.
fn check_prop(key: &str, value: &serde_json::Value, limits: &Limits) -> Result<(), EventError> {
    match value {
        serde_json::Value::String(v) => check_str(&format!("props.{key}"), v, limits),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            Err(EventError::new(format!("props.{key}"), "must be a string, number, boolean or null"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(data: serde_json::Value) -> serde_json::Value {
        let mut v = json!({
            "id": "0192f0c4-8a4e-7cc3-9b1a-3c7e1f7a1b2c",
            "ts": 1_795_373_276_123_i64,
            "sessionId": "s-1",
            "url": "https://shop.example/p/1",
        });
        v.as_object_mut().unwrap().extend(data.as_object().unwrap().clone());
        v
    }

    #[test]
    fn parses_every_kind_from_wire_json() {
        let cases = [
            (json!({"type": "page_view"}), InteractionKind::PageView),
            (
                json!({"type": "product_view", "product": {"externalId": "p1", "name": "Mug"}}),
                InteractionKind::ProductView,
            ),
            (json!({"type": "click", "path": "main>button.buy", "text": "Buy"}), InteractionKind::Click),
            (json!({"type": "rage_click", "path": "button", "count": 4}), InteractionKind::RageClick),
            (json!({"type": "scroll", "depthPct": 75}), InteractionKind::Scroll),
            (
                json!({"type": "add_to_cart", "item": {"product": {"sku": "A"}, "quantity": 2, "price": 9.5}}),
                InteractionKind::AddToCart,
            ),
            (
                json!({"type": "purchase", "orderId": "o1", "items": [], "value": 19.0, "currency": "EUR"}),
                InteractionKind::Purchase,
            ),
            (json!({"type": "web_vital", "name": "LCP", "value": 1200.0}), InteractionKind::WebVital),
            (json!({"type": "custom", "name": "wishlist", "props": {"color": "red", "n": 2}}), InteractionKind::Custom),
        ];
        for (data, kind) in cases {
            let event = parse_event(base(data.clone()), &Limits::default()).unwrap_or_else(|e| panic!("{data}: {e}"));
            assert_eq!(event.data.kind(), kind);
            // What the server reads, the tracker writes: round trip through serde.
            let again = parse_event(serde_json::to_value(&event).unwrap(), &Limits::default()).unwrap();
            assert_eq!(again, event);
        }
    }

    #[test]
    fn rejects_oversized_and_malformed_events() {
        let limits = Limits::default();
        let long = "x".repeat(limits.max_string_chars + 1);
        let err = parse_event(base(json!({"type": "click", "path": long})), &limits).unwrap_err();
        assert_eq!(err.field, "path");

        let many: serde_json::Map<String, serde_json::Value> =
            (0..10_000).map(|i| (format!("k{i}"), json!(i))).collect();
        let err = parse_event(base(json!({"type": "custom", "name": "x", "props": many})), &limits).unwrap_err();
        assert_eq!(err.field, "props");

        let err = parse_event(base(json!({"type": "custom", "name": "x", "props": {"deep": {"a": 1}}})), &limits)
            .unwrap_err();
        assert_eq!(err.field, "props.deep");

        assert!(parse_event(base(json!({"type": "teleport"})), &limits).is_err());
        assert!(parse_event(base(json!({"type": "scroll", "depthPct": 101})), &limits).is_err());
        assert!(parse_event(json!({"type": "page_view"}), &limits).is_err(), "missing base fields");
    }

    #[test]
    fn envelope_checks_version_and_batch_size() {
        let limits = Limits::default();
        let ok = Envelope { v: SCHEMA_VERSION, sent_at: Timestamp::EPOCH, organization_id: None, events: Vec::new() };
        assert!(ok.check(&limits).is_ok());
        let future = Envelope { v: 2, ..ok.clone() };
        assert_eq!(future.check(&limits).unwrap_err().field, "v");
        let big = Envelope { events: alloc::vec![json!({}); limits.max_events + 1], ..ok };
        assert_eq!(big.check(&limits).unwrap_err().field, "events");
    }
}
