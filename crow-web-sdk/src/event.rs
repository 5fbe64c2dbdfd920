//! Tracker events as schema-v1 JSON (`crow_core::event`), written without serde.
//!
//! The native tests parse every kind written here with crow-core's own `parse_event`, so the
//! tracker and ingest cannot drift apart.

use alloc::string::String;

use crate::fields::{FIELD, RECORD, split};
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
    /// Page title.
    pub title: Option<&'a str>,
}

/// A product as the page names it, from a host.js record `id␟sku␟url␟name` (the shop's id from
/// `data-crow-product` or schema.org `productID`/`@id`, SKU, product page, name), written as
/// the schema's product object. Empty fields are left out; `{}` when nothing names a product.
pub fn product(record: &str) -> String {
    let mut o = Obj::new();
    for (key, value) in ["externalId", "sku", "url", "name"].into_iter().zip(split(record, FIELD)) {
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

/// The lines of an e-commerce call, written.
#[derive(Debug, PartialEq)]
pub struct OrderLines {
    /// A JSON array of [`line_item`]s.
    pub items: String,
    /// How many there are.
    pub count: usize,
    /// The order's value, when the page gave a finite one.
    pub value: Option<f64>,
}

impl OrderLines {
    /// The line, when there is exactly one: the array's one element.
    pub fn single(&self) -> Option<&str> {
        if self.count == 1 { self.items.get(1..self.items.len() - 1) } else { None }
    }
}

/// The lines of an e-commerce call as host.js passes them: `records` holds one product record
/// per line (separated by U+001E; a record is never empty, so an empty string is no lines),
/// `numbers` each line's quantity and unit price, then the order's value (NaN where the page gave
/// none). 100 lines at most.
pub fn order_lines(records: &str, numbers: &[f64]) -> OrderLines {
    let number = |i: usize| numbers.get(i).copied().filter(|v| v.is_finite());
    let mut items = String::from("[");
    let mut count = 0;
    for record in split(records, RECORD).filter(|r| !r.is_empty()).take(100) {
        if count > 0 {
            items.push(',');
        }
        let quantity = number(2 * count).map_or(1, |q| q.clamp(1.0, 1e6) as u32);
        items.push_str(&line_item(record, quantity, number(2 * count + 1)));
        count += 1;
    }
    items.push(']');
    OrderLines { items, count, value: number(2 * count) }
}

/// The event-specific part: its type and its fields, written as it is made (no enum of owned
/// values to build, move, match and drop: each kind is written where it is captured).
#[derive(Debug)]
pub struct Data {
    kind: &'static str,
    fields: Obj,
}

impl Data {
    fn new(kind: &'static str) -> Self {
        Self { kind, fields: Obj::new() }
    }

    /// Page shown, with its referrer (the page before it on an SPA route change).
    pub fn page_view(referrer: &str) -> Self {
        let mut d = Self::new("page_view");
        if !referrer.is_empty() {
            d.fields.str("referrer", clip(referrer));
        }
        d
    }

    /// Product seen: its [`product`] object.
    pub fn product_view(product: &str) -> Self {
        let mut d = Self::new("product_view");
        d.fields.raw("product", product);
        d
    }

    /// Click on an interactive element: its short path, trimmed text and the [`product`] of the
    /// element or page.
    pub fn click(path: &str, text: Option<&str>, product: Option<&str>) -> Self {
        let mut d = Self::new("click");
        d.fields.str("path", clip(path)).opt_str("text", text.map(clip));
        if let Some(p) = product {
            d.fields.raw("product", p);
        }
        d
    }

    /// `count` ≥ 3 clicks within 1 s and 30 px.
    pub fn rage_click(path: &str, count: u32) -> Self {
        let mut d = Self::new("rage_click");
        d.fields.str("path", clip(path)).int("count", i64::from(count));
        d
    }

    /// No DOM or URL change within 2.5 s of a click.
    pub fn dead_click(path: &str) -> Self {
        let mut d = Self::new("dead_click");
        d.fields.str("path", clip(path));
        d
    }

    /// A scroll milestone: the percent of the page seen.
    pub fn scroll(depth_pct: u8) -> Self {
        let mut d = Self::new("scroll");
        d.fields.int("depthPct", i64::from(depth_pct.min(100)));
        d
    }

    /// Time on page, visible and since the page view, in milliseconds (whole, at least 0).
    pub fn engagement(active_ms: f64, total_ms: f64) -> Self {
        let mut d = Self::new("engagement");
        d.fields.int("activeMs", non_negative(active_ms) as i64).int("totalMs", non_negative(total_ms) as i64);
        d
    }

    /// Form submitted: its id or path and its number of controls; never values.
    pub fn form_submit(form: &str, field_count: u32) -> Self {
        let mut d = Self::new("form_submit");
        d.fields.str("form", clip(form)).int("fieldCount", i64::from(field_count));
        d
    }

    /// Added to cart (`removed`: removed from it): the [`line_item`].
    pub fn cart(item: &str, removed: bool) -> Self {
        let mut d = Self::new(if removed { "remove_from_cart" } else { "add_to_cart" });
        d.fields.raw("item", item);
        d
    }

    /// Checkout started: a JSON array of [`line_item`]s, the cart's value, ISO 4217 currency.
    pub fn checkout_started(items: &str, value: Option<f64>, currency: Option<&str>) -> Self {
        let mut d = Self::new("checkout_started");
        d.fields.raw("items", items);
        if let Some(v) = value.filter(|v| *v >= 0.0) {
            d.fields.num("value", v);
        }
        d.fields.opt_str("currency", currency.map(clip));
        d
    }

    /// Order placed: the shop's order id, a JSON array of [`line_item`]s, value and currency.
    pub fn purchase(order_id: &str, items: &str, value: f64, currency: &str) -> Self {
        let mut d = Self::new("purchase");
        d.fields
            .str("orderId", clip(order_id))
            .raw("items", items)
            .num("value", non_negative(value))
            .str("currency", clip(currency));
        d
    }

    /// A web vital: `LCP`, `CLS` or `INP`.
    pub fn web_vital(name: &str, value: f64) -> Self {
        let mut d = Self::new("web_vital");
        d.fields.str("name", name).num("value", non_negative(value));
        d
    }

    /// Uncaught error: message (500 characters at most), script and line.
    pub fn js_error(message: &str, source: Option<&str>, line: Option<u32>) -> Self {
        let mut d = Self::new("js_error");
        d.fields.str("message", cut(message, 500)).opt_str("source", source.map(clip));
        if let Some(l) = line {
            d.fields.int("line", i64::from(l));
        }
        d
    }

    /// `identify`.
    pub fn identify() -> Self {
        Self::new("identify")
    }

    /// `track(name, props)`; `props` is a flat JSON object already.
    pub fn custom(name: &str, props: &str) -> Self {
        let mut d = Self::new("custom");
        d.fields.str("name", clip(name)).raw("props", props);
        d
    }
}

/// `value`, or 0 when it is negative or NaN, as `value.max(0.0)` would (which is a libm call in
/// the wasm).
fn non_negative(value: f64) -> f64 {
    if value >= 0.0 { value } else { 0.0 }
}

/// Cuts a string to [`MAX_CHARS`] characters.
pub fn clip(s: &str) -> &str {
    cut(s, MAX_CHARS)
}

/// The first `n` characters of `s`.
pub fn cut(s: &str, n: usize) -> &str {
    // Characters are counted by their first bytes (any byte but a UTF-8 continuation byte), so
    // no UTF-8 decoder is needed; `get`, not indexing: no panic path in the wasm.
    let mut chars = 0;
    for (i, b) in s.bytes().enumerate() {
        if b & 0xC0 != 0x80 {
            if chars == n {
                return s.get(..i).unwrap_or(s);
            }
            chars += 1;
        }
    }
    s
}

/// Writes one event.
pub fn write(ctx: &Context<'_>, data: &Data) -> String {
    let mut o = Obj::new();
    o.str("id", ctx.id)
        .int("ts", ctx.ts)
        .str("sessionId", clip(ctx.session_id))
        .opt_str("userId", ctx.user_id.map(clip))
        .str("url", clip(ctx.url))
        .opt_str("title", ctx.title.filter(|t| !t.is_empty()).map(clip));
    o.fields(&data.fields);
    o.str("type", data.kind).end()
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
            title: Some("Mug — Shop"),
        };
        let cases = [
            (Data::page_view("https://search.example/"), InteractionKind::PageView),
            (Data::product_view(&product()), InteractionKind::ProductView),
            (Data::click("main>button.buy", Some("Buy"), Some(&product())), InteractionKind::Click),
            (Data::click("a", None, None), InteractionKind::Click),
            (Data::rage_click("button", 3), InteractionKind::RageClick),
            (Data::dead_click("button"), InteractionKind::DeadClick),
            (Data::scroll(75), InteractionKind::Scroll),
            (Data::engagement(1200.7, 5000.0), InteractionKind::Engagement),
            (Data::form_submit("#newsletter", 3), InteractionKind::FormSubmit),
            (Data::cart(&line(), false), InteractionKind::AddToCart),
            (Data::cart(&line(), true), InteractionKind::RemoveFromCart),
            (
                Data::checkout_started(&array([line().as_str()]), Some(25.0), Some("EUR")),
                InteractionKind::CheckoutStarted,
            ),
            (Data::purchase("o-1", &array([line().as_str()]), 25.0, "EUR"), InteractionKind::Purchase),
            (Data::web_vital("CLS", 0.05), InteractionKind::WebVital),
            (Data::js_error("boom", Some("app.js"), Some(3)), InteractionKind::JsError),
            (Data::identify(), InteractionKind::Identify),
            (Data::custom("wishlist", r#"{"color":"red","n":2}"#), InteractionKind::Custom),
        ];
        for (data, kind) in cases {
            let json = write(&ctx, &data);
            let raw: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            let event = parse_event(raw, &Limits::default()).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(event.data.kind(), kind, "{json}");
            assert_eq!(event.session_id, "s-1");
            assert_eq!(event.user_id.as_deref(), Some("user-7"));
            let referrer = (kind == InteractionKind::PageView).then_some("https://search.example/");
            assert_eq!(event.referrer.as_deref(), referrer);
        }
    }

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("héllo🦀!", 6), "héllo🦀");
        assert_eq!(cut("héllo🦀!", 5), "héllo");
        assert_eq!(cut("abc", 0), "");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("", 2), "");
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
            title: None,
        };
        let json = write(&ctx, &Data::click(&long, Some(&long), None));
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
        let order = order_lines(&records, &[2.0, 12.5, f64::NAN, -1.0, 25.0]);
        let lines: Vec<serde_json::Value> = serde_json::from_str(&order.items).unwrap();
        assert_eq!((lines.len(), order.count, order.single()), (2, 2, None));
        assert_eq!(lines[0]["quantity"], 2);
        assert_eq!(lines[0]["price"], 12.5);
        assert_eq!(lines[0]["product"]["externalId"], "mug-1");
        assert_eq!(
            lines[1],
            serde_json::json!({"product": {}, "quantity": 1}),
            "no quantity is 1, a negative price none"
        );
        assert_eq!(order.value, Some(25.0));
        let one = order_lines(MUG, &[3.0]);
        assert_eq!(one.single(), Some(line_item(MUG, 3, None).as_str()));
        // No lines: the only number is the order's value.
        assert_eq!(order_lines("", &[40.0]), OrderLines { items: "[]".into(), count: 0, value: Some(40.0) });
        assert_eq!(order_lines("", &[f64::NAN]).value, None);
    }

    #[test]
    fn envelope_is_what_ingest_reads() {
        let env = envelope(5, ["{}", "{}"]);
        let parsed: Envelope = serde_json::from_str(&env).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert!(parsed.check(&Limits::default()).is_ok());
    }
}
