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

/// A product as the page names it, from a host.js record `id␟sku␟url␟name` (the shop's id from
/// `data-crow-product` or schema.org `productID`/`@id`, SKU, product page, name), written as
/// the schema's product object. Empty fields are left out; `{}` when nothing names a product.
pub fn product(record: &str) -> String {
    let mut o = Obj::new();
    for (key, value) in
        ["externalId", "sku", "url", "name"].into_iter().zip(crate::fields::split(record, crate::fields::FIELD))
    {
        if !value.is_empty() {
            o.str(key, clip(value));
        }
    }
    o.end()
}

/// [`product`], unless nothing names the product.
pub fn named_product(record: &str) -> Option<String> {
    Some(product(record)).filter(|p| p.len() > 2)
}

/// One cart or order line: its product record, quantity (at least 1) and unit price (left out
/// when absent or negative).
pub fn line_item(record: &str, quantity: u32, price: Option<f64>) -> String {
    let mut o = Obj::new();
    o.raw("product", &product(record)).int("quantity", i64::from(quantity));
    if let Some(p) = price.filter(|p| *p >= 0.0) {
        o.num("price", p);
    }
    o.end()
}

/// The lines of an e-commerce call as host.js passes them: `records` holds one product record
/// per line (separated by U+001E; a record is never empty, so an empty string is no lines),
/// `numbers` each line's quantity and unit price, then the order's value (NaN where the page gave
/// none). Returns the [`line_item`]s (100 at most) and the value.
pub fn order_lines(records: &str, numbers: &[f64]) -> (Vec<String>, Option<f64>) {
    let number = |i: usize| numbers.get(i).copied().filter(|v| v.is_finite());
    let lines: Vec<String> = crate::fields::split(records, crate::fields::RECORD)
        .filter(|r| !r.is_empty())
        .take(100)
        .enumerate()
        .map(|(i, p)| line_item(p, number(2 * i).map_or(1, |q| q.clamp(1.0, 1e6) as u32), number(2 * i + 1)))
        .collect();
    let value = number(2 * lines.len());
    (lines, value)
}

/// The event-specific part.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Page shown.
    PageView,
    /// Product seen: its [`product`] object.
    ProductView(String),
    /// Click on an interactive element.
    Click {
        /// Short element path.
        path: String,
        /// Trimmed text.
        text: Option<String>,
        /// Product of the element or page ([`product`] object).
        product: Option<String>,
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
    /// Added to cart: the [`line_item`].
    AddToCart(String),
    /// Removed from cart: the [`line_item`].
    RemoveFromCart(String),
    /// Checkout started.
    CheckoutStarted {
        /// Lines: a JSON array of [`line_item`]s.
        items: String,
        /// Cart value.
        value: Option<f64>,
        /// ISO 4217.
        currency: Option<String>,
    },
    /// Order placed.
    Purchase {
        /// Shop's order id.
        order_id: String,
        /// Lines: a JSON array of [`line_item`]s.
        items: String,
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
            o.raw("product", p);
            "product_view"
        }
        Data::Click { path, text, product } => {
            o.str("path", clip(path)).opt_str("text", text.as_deref().map(clip));
            if let Some(p) = product {
                o.raw("product", p);
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
            o.raw("item", item);
            "add_to_cart"
        }
        Data::RemoveFromCart(item) => {
            o.raw("item", item);
            "remove_from_cart"
        }
        Data::CheckoutStarted { items, value, currency } => {
            o.raw("items", items);
            if let Some(v) = value.filter(|v| *v >= 0.0) {
                o.num("value", v);
            }
            o.opt_str("currency", currency.as_deref().map(clip));
            "checkout_started"
        }
        Data::Purchase { order_id, items, value, currency } => {
            o.str("orderId", clip(order_id))
                .raw("items", items)
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

    /// A product record as host.js writes it: id, SKU, no URL, a name that needs escaping.
    const MUG: &str = "mug-1\u{1f}SKU-1\u{1f}\u{1f}Blue \"mug\"";

    fn product() -> String {
        super::product(MUG)
    }

    fn line() -> String {
        line_item(MUG, 2, Some(12.5))
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
                Data::CheckoutStarted {
                    items: array([line().as_str()]),
                    value: Some(25.0),
                    currency: Some("EUR".into()),
                },
                InteractionKind::CheckoutStarted,
            ),
            (
                Data::Purchase {
                    order_id: "o-1".into(),
                    items: array([line().as_str()]),
                    value: 25.0,
                    currency: "EUR".into(),
                },
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
        let p: serde_json::Value = serde_json::from_str(&product()).unwrap();
        assert_eq!(p, serde_json::json!({"externalId": "mug-1", "sku": "SKU-1", "name": "Blue \"mug\""}));
        assert_eq!(named_product(""), None);
        assert_eq!(named_product("\u{1f}\u{1f}\u{1f}"), None);
        assert_eq!(named_product("\u{1f}\u{1f}/p/1").as_deref(), Some(r#"{"url":"/p/1"}"#));
    }

    #[test]
    fn order_lines_pair_records_with_their_numbers() {
        let records = format!("{MUG}\u{1e}\u{1f}\u{1f}\u{1f}");
        let (lines, value) = order_lines(&records, &[2.0, 12.5, f64::NAN, -1.0, 25.0]);
        let lines: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["quantity"], 2);
        assert_eq!(lines[0]["price"], 12.5);
        assert_eq!(lines[0]["product"]["externalId"], "mug-1");
        assert_eq!(
            lines[1],
            serde_json::json!({"product": {}, "quantity": 1}),
            "no quantity is 1, a negative price none"
        );
        assert_eq!(value, Some(25.0));
        // No lines: the only number is the order's value.
        assert_eq!(order_lines("", &[40.0]), (Vec::new(), Some(40.0)));
        assert_eq!(order_lines("", &[f64::NAN]), (Vec::new(), None));
    }

    #[test]
    fn envelope_is_what_ingest_reads() {
        let env = envelope(5, ["{}", "{}"]);
        let parsed: Envelope = serde_json::from_str(&env).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert!(parsed.check(&Limits::default()).is_ok());
    }
}
