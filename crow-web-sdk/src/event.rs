//! Tracker events as schema-v1 JSON (`crow_core::event`), written without serde.
//!
//! The native tests parse every kind written here with crow-core's own `parse_event`, so the
//! tracker and ingest cannot drift apart.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{Obj, array};

/// Longest string ingest accepts; longer values are cut here rather than rejected there.
pub const MAX_CHARS: usize = 2048;

/// What every event carries.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Unique event id (UUID v7).
    pub id: &'a str,
    /// Client time, Unix ms.
    pub ts: i64,
    /// Cookieless session id.
    pub session_id: &'a str,
    /// From `identify`.
    pub user_id: Option<&'a str>,
    /// Page URL without fragment.
    pub url: &'a str,
    /// Referrer (page views only).
    pub referrer: Option<&'a str>,
    /// Page title.
    pub title: Option<&'a str>,
}

/// A product as the page names it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Product {
    /// The shop's id (`data-crow-product`, schema.org `productID`/`@id`).
    pub external_id: Option<String>,
    /// SKU.
    pub sku: Option<String>,
    /// Product page.
    pub url: Option<String>,
    /// Name.
    pub name: Option<String>,
}

impl Product {
    /// True when nothing identifies the product.
    pub fn is_empty(&self) -> bool {
        self.external_id.is_none() && self.sku.is_none() && self.url.is_none() && self.name.is_none()
    }

    /// A product from a host.js record `id␟sku␟url␟name`; empty fields are absent.
    pub fn from_record(record: &str) -> Self {
        let mut f = record.split(crate::path::FIELD).map(|v| Some(v).filter(|v| !v.is_empty()).map(String::from));
        let mut next = || f.next().flatten();
        Self { external_id: next(), sku: next(), url: next(), name: next() }
    }

    fn json(&self) -> String {
        Obj::new()
            .opt_str("externalId", self.external_id.as_deref().map(clip))
            .opt_str("sku", self.sku.as_deref().map(clip))
            .opt_str("url", self.url.as_deref().map(clip))
            .opt_str("name", self.name.as_deref().map(clip))
            .end()
    }
}

/// One cart or order line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    /// The product.
    pub product: Product,
    /// Quantity (at least 1).
    pub quantity: u32,
    /// Unit price.
    pub price: Option<f64>,
}

impl LineItem {
    fn json(&self) -> String {
        let mut o = Obj::new();
        o.raw("product", &self.product.json()).int("quantity", i64::from(self.quantity));
        if let Some(p) = self.price.filter(|p| *p >= 0.0) {
            o.num("price", p);
        }
        o.end()
    }
}

fn items_json(items: &[LineItem]) -> String {
    let lines: Vec<String> = items.iter().take(100).map(LineItem::json).collect();
    array(lines.iter().map(String::as_str))
}

/// The event-specific part.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Page shown.
    PageView,
    /// Product seen.
    ProductView(Product),
    /// Click on an interactive element.
    Click {
        /// Short element path.
        path: String,
        /// Trimmed text.
        text: Option<String>,
        /// Product of the element or page.
        product: Option<Product>,
    },
    /// ≥ 3 clicks within 1 s and 30 px.
    RageClick {
        /// Element path.
        path: String,
        /// Clicks in the burst.
        count: u32,
    },
    /// No DOM or URL change within 2.5 s of a click.
    DeadClick {
        /// Element path.
        path: String,
    },
    /// A scroll milestone.
    Scroll {
        /// Percent of the page seen.
        depth_pct: u8,
    },
    /// Time on page.
    Engagement {
        /// Visible time.
        active_ms: u64,
        /// Since the page view.
        total_ms: u64,
    },
    /// Form submitted; no values.
    FormSubmit {
        /// Form id or path.
        form: String,
        /// Number of controls.
        field_count: u32,
    },
    /// Added to cart.
    AddToCart(LineItem),
    /// Removed from cart.
    RemoveFromCart(LineItem),
    /// Checkout started.
    CheckoutStarted {
        /// Lines.
        items: Vec<LineItem>,
        /// Cart value.
        value: Option<f64>,
        /// ISO 4217.
        currency: Option<String>,
    },
    /// Order placed.
    Purchase {
        /// Shop's order id.
        order_id: String,
        /// Lines.
        items: Vec<LineItem>,
        /// Order value.
        value: f64,
        /// ISO 4217.
        currency: String,
    },
    /// A web vital: `LCP`, `CLS` or `INP`.
    WebVital {
        /// Which.
        name: &'static str,
        /// Value.
        value: f64,
    },
    /// Uncaught error.
    JsError {
        /// Message.
        message: String,
        /// Script.
        source: Option<String>,
        /// Line.
        line: Option<u32>,
    },
    /// `identify`.
    Identify,
    /// `track(name, props)`; `props` is a JSON object already.
    Custom {
        /// Name.
        name: String,
        /// Flat JSON object.
        props: String,
    },
}

/// Cuts a string to [`MAX_CHARS`] characters.
pub fn clip(s: &str) -> &str {
    cut(s, MAX_CHARS)
}

/// The first `n` characters of `s`.
pub fn cut(s: &str, n: usize) -> &str {
    // `get`, not indexing: no panic path (and its formatting code) in the wasm.
    match s.char_indices().nth(n) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// Writes one event.
pub fn write(ctx: &Context<'_>, data: &Data) -> String {
    let mut o = Obj::new();
    o.str("id", ctx.id)
        .int("ts", ctx.ts)
        .str("sessionId", clip(ctx.session_id))
        .opt_str("userId", ctx.user_id.map(clip))
        .str("url", clip(ctx.url))
        .opt_str("referrer", ctx.referrer.filter(|r| !r.is_empty()).map(clip))
        .opt_str("title", ctx.title.filter(|t| !t.is_empty()).map(clip));
    let kind = match data {
        Data::PageView => "page_view",
        Data::ProductView(p) => {
            o.raw("product", &p.json());
            "product_view"
        }
        Data::Click { path, text, product } => {
            o.str("path", clip(path)).opt_str("text", text.as_deref().map(clip));
            if let Some(p) = product.as_ref().filter(|p| !p.is_empty()) {
                o.raw("product", &p.json());
            }
            "click"
        }
        Data::RageClick { path, count } => {
            o.str("path", clip(path)).int("count", i64::from(*count));
            "rage_click"
        }
        Data::DeadClick { path } => {
            o.str("path", clip(path));
            "dead_click"
        }
        Data::Scroll { depth_pct } => {
            o.int("depthPct", i64::from((*depth_pct).min(100)));
            "scroll"
        }
        Data::Engagement { active_ms, total_ms } => {
            o.int("activeMs", i64::try_from(*active_ms).unwrap_or(i64::MAX))
                .int("totalMs", i64::try_from(*total_ms).unwrap_or(i64::MAX));
            "engagement"
        }
        Data::FormSubmit { form, field_count } => {
            o.str("form", clip(form)).int("fieldCount", i64::from(*field_count));
            "form_submit"
        }
        Data::AddToCart(item) => {
            o.raw("item", &item.json());
            "add_to_cart"
        }
        Data::RemoveFromCart(item) => {
            o.raw("item", &item.json());
            "remove_from_cart"
        }
        Data::CheckoutStarted { items, value, currency } => {
            o.raw("items", &items_json(items));
            if let Some(v) = value.filter(|v| *v >= 0.0) {
                o.num("value", v);
            }
            o.opt_str("currency", currency.as_deref().map(clip));
            "checkout_started"
        }
        Data::Purchase { order_id, items, value, currency } => {
            o.str("orderId", clip(order_id))
                .raw("items", &items_json(items))
                .num("value", value.max(0.0))
                .str("currency", clip(currency));
            "purchase"
        }
        Data::WebVital { name, value } => {
            o.str("name", name).num("value", value.max(0.0));
            "web_vital"
        }
        Data::JsError { message, source, line } => {
            o.str("message", cut(message, 500)).opt_str("source", source.as_deref().map(clip));
            if let Some(l) = line {
                o.int("line", i64::from(*l));
            }
            "js_error"
        }
        Data::Identify => "identify",
        Data::Custom { name, props } => {
            o.str("name", clip(name)).raw("props", props);
            "custom"
        }
    };
    o.str("type", kind).end()
}

/// `{"v":1,"sentAt":…,"events":[…]}` around already-written events.
pub fn envelope<'a>(sent_at: i64, events: impl IntoIterator<Item = &'a str>) -> String {
    Obj::new().int("v", 1).int("sentAt", sent_at).raw("events", &array(events)).end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crow_core::domain::InteractionKind;
    use crow_core::event::{Envelope, Limits, parse_event};

    fn product() -> Product {
        Product {
            external_id: Some("mug-1".into()),
            sku: Some("SKU-1".into()),
            url: None,
            name: Some("Blue \"mug\"".into()),
        }
    }

    fn line() -> LineItem {
        LineItem { product: product(), quantity: 2, price: Some(12.5) }
    }

    /// Every kind the tracker writes parses with crow-core's schema and becomes the right kind.
    #[test]
    fn every_event_kind_passes_the_servers_schema() {
        let ctx = Context {
            id: "0192f0c4-8a4e-7cc3-9b1a-3c7e1f7a1b2c",
            ts: 1_795_373_276_123,
            session_id: "s-1",
            user_id: Some("user-7"),
            url: "https://shop.example/p/1",
            referrer: Some("https://search.example/"),
            title: Some("Mug — Shop"),
        };
        let cases = [
            (Data::PageView, InteractionKind::PageView),
            (Data::ProductView(product()), InteractionKind::ProductView),
            (
                Data::Click { path: "main>button.buy".into(), text: Some("Buy".into()), product: Some(product()) },
                InteractionKind::Click,
            ),
            (Data::Click { path: "a".into(), text: None, product: None }, InteractionKind::Click),
            (Data::RageClick { path: "button".into(), count: 3 }, InteractionKind::RageClick),
            (Data::DeadClick { path: "button".into() }, InteractionKind::DeadClick),
            (Data::Scroll { depth_pct: 75 }, InteractionKind::Scroll),
            (Data::Engagement { active_ms: 1200, total_ms: 5000 }, InteractionKind::Engagement),
            (Data::FormSubmit { form: "#newsletter".into(), field_count: 3 }, InteractionKind::FormSubmit),
            (Data::AddToCart(line()), InteractionKind::AddToCart),
            (Data::RemoveFromCart(line()), InteractionKind::RemoveFromCart),
            (
                Data::CheckoutStarted { items: vec![line()], value: Some(25.0), currency: Some("EUR".into()) },
                InteractionKind::CheckoutStarted,
            ),
            (
                Data::Purchase { order_id: "o-1".into(), items: vec![line()], value: 25.0, currency: "EUR".into() },
                InteractionKind::Purchase,
            ),
            (Data::WebVital { name: "CLS", value: 0.05 }, InteractionKind::WebVital),
            (
                Data::JsError { message: "boom".into(), source: Some("app.js".into()), line: Some(3) },
                InteractionKind::JsError,
            ),
            (Data::Identify, InteractionKind::Identify),
            (
                Data::Custom { name: "wishlist".into(), props: r#"{"color":"red","n":2}"#.into() },
                InteractionKind::Custom,
            ),
        ];
        for (data, kind) in cases {
            let json = write(&ctx, &data);
            let raw: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            let event = parse_event(raw, &Limits::default()).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(event.data.kind(), kind, "{json}");
            assert_eq!(event.session_id, "s-1");
            assert_eq!(event.user_id.as_deref(), Some("user-7"));
        }
    }

    #[test]
    fn long_strings_are_cut_to_what_ingest_accepts() {
        let long = "é".repeat(MAX_CHARS * 2);
        let ctx = Context {
            id: "0192f0c4-8a4e-7cc3-9b1a-3c7e1f7a1b2c",
            ts: 1,
            session_id: "s",
            user_id: None,
            url: &long,
            referrer: None,
            title: None,
        };
        let json = write(&ctx, &Data::Click { path: long.clone(), text: Some(long.clone()), product: None });
        let raw: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(parse_event(raw, &Limits::default()).is_ok());
    }

    #[test]
    fn products_are_read_from_host_records() {
        let p = Product::from_record("mug-1\u{1f}SKU-1\u{1f}\u{1f}Blue \"mug\"");
        assert_eq!(p, product());
        assert!(Product::from_record("").is_empty());
        assert!(Product::from_record("\u{1f}\u{1f}\u{1f}").is_empty());
        assert_eq!(Product::from_record("\u{1f}\u{1f}/p/1").url.as_deref(), Some("/p/1"));
    }

    #[test]
    fn envelope_is_what_ingest_reads() {
        let env = envelope(5, ["{}", "{}"]);
        let parsed: Envelope = serde_json::from_str(&env).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert!(parsed.check(&Limits::default()).is_ok());
    }
}
