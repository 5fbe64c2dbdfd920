//! Reading the page: element paths, products, storage, time and randomness.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Storage, Window};

use crate::event::Product;
use crate::path;

/// Elements whose clicks are reported.
pub const INTERACTIVE: &str =
    "a,button,input,select,textarea,label,summary,[role=button],[role=link],[onclick],[data-crow-product]";
/// Elements whose clicks should change something (dead-click candidates).
pub const ACTIONS: &str = "a,button,[role=button],[role=link],[onclick]";

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn perf_now(w: &Window) -> f64 {
    w.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// `len` random bytes from `crypto.getRandomValues`, `Math.random` if that is unavailable.
pub fn random<const N: usize>(w: &Window) -> [u8; N] {
    let mut b = [0u8; N];
    let ok = w.crypto().ok().is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
    if !ok {
        for x in &mut b {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    b
}

pub fn new_id(w: &Window) -> String {
    crate::uuid::v7(u64::try_from(now_ms()).unwrap_or(0), random::<10>(w))
}

pub fn local(w: &Window) -> Option<Storage> {
    w.local_storage().ok().flatten()
}

pub fn session(w: &Window) -> Option<Storage> {
    w.session_storage().ok().flatten()
}

pub fn get(s: Option<&Storage>, key: &str) -> Option<String> {
    s?.get_item(key).ok().flatten()
}

/// Storage can refuse (quota, private mode); the tracker carries on in memory.
pub fn set(s: Option<&Storage>, key: &str, value: &str) {
    if let Some(s) = s {
        let _ = if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) };
    }
}

/// The page URL without its fragment.
pub fn url(w: &Window) -> String {
    let href = w.location().href().unwrap_or_default();
    match href.split_once('#') {
        Some((u, _)) => u.to_owned(),
        None => href,
    }
}

/// The element's short path.
pub fn path_of(el: &Element) -> String {
    let mut segments = Vec::with_capacity(path::DEPTH + 1);
    let mut cur = Some(el.clone());
    while let Some(e) = cur {
        let tag = e.tag_name();
        if tag.eq_ignore_ascii_case("body") || tag.eq_ignore_ascii_case("html") {
            break;
        }
        let list = e.class_list();
        let classes: Vec<String> = (0..list.length().min(3)).filter_map(|i| list.item(i)).collect();
        let id = e.id();
        segments.push(path::segment(&tag, &id, &classes));
        if !id.is_empty() || segments.len() > path::DEPTH {
            break;
        }
        cur = e.parent_element();
    }
    path::join(segments)
}

fn attr(el: &Element, name: &str) -> Option<String> {
    el.get_attribute(name).filter(|v| !v.is_empty())
}

/// The product an element belongs to: `data-crow-product` (with optional `data-crow-sku` and
/// `data-crow-name`) on it or an ancestor.
pub fn element_product(el: &Element) -> Option<Product> {
    let host = el.closest("[data-crow-product]").ok().flatten()?;
    Some(Product {
        external_id: attr(&host, "data-crow-product"),
        sku: attr(&host, "data-crow-sku"),
        name: attr(&host, "data-crow-name"),
        url: None,
    })
}

/// A non-empty string property (numbers are accepted and written as the browser prints them).
pub fn string(obj: &JsValue, key: &str) -> Option<String> {
    let v = Reflect::get(obj, &JsValue::from_str(key)).ok()?;
    v.as_string().or_else(|| v.as_f64().map(crate::num::fmt_f64)).filter(|s| !s.is_empty())
}

fn is_product(obj: &JsValue) -> bool {
    let t = Reflect::get(obj, &JsValue::from_str("@type")).unwrap_or(JsValue::UNDEFINED);
    t.as_string().is_some_and(|s| s == "Product")
        || Array::is_array(&t) && Array::from(&t).iter().any(|v| v.as_string().is_some_and(|s| s == "Product"))
}

/// Collects schema.org Products from a JSON-LD value: the value itself, arrays, `@graph`, and
/// the `item`s of an ItemList.
fn collect(value: &JsValue, out: &mut Vec<Product>, depth: u8) {
    if depth > 4 || out.len() >= 20 || !value.is_object() {
        return;
    }
    if Array::is_array(value) {
        for v in Array::from(value).iter() {
            collect(&v, out, depth + 1);
        }
        return;
    }
    if is_product(value) {
        let p = Product {
            external_id: string(value, "productID").or_else(|| string(value, "@id")),
            sku: string(value, "sku"),
            url: string(value, "url"),
            name: string(value, "name"),
        };
        if !p.is_empty() {
            out.push(p);
        }
        return;
    }
    for key in ["@graph", "itemListElement", "item", "mainEntity"] {
        if let Ok(v) = Reflect::get(value, &JsValue::from_str(key)) {
            collect(&v, out, depth + 1);
        }
    }
}

/// Products described by the page's schema.org JSON-LD.
pub fn page_products(doc: &Document) -> Vec<Product> {
    let mut out = Vec::new();
    let Ok(scripts) = doc.query_selector_all("script[type='application/ld+json']") else { return out };
    for i in 0..scripts.length() {
        let text = scripts.item(i).and_then(|n| n.text_content()).unwrap_or_default();
        if let Ok(value) = js_sys::JSON::parse(&text) {
            collect(&value, &mut out, 0);
        }
    }
    out
}

/// Reads a product given to the API: `{ id, sku, name, url }`.
pub fn product_arg(obj: &JsValue) -> Product {
    Product {
        external_id: string(obj, "id").or_else(|| string(obj, "productId")),
        sku: string(obj, "sku"),
        url: string(obj, "url"),
        name: string(obj, "name"),
    }
}

pub fn number(obj: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(key)).ok()?.as_f64().filter(|v| v.is_finite())
}

pub fn array(obj: &JsValue, key: &str) -> Vec<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(Array::is_array)
        .map(|a| Array::from(&a).iter().take(100).collect())
        .unwrap_or_default()
}

/// `true` when the value is an Element (event targets can be text nodes or the window).
pub fn element(target: Option<web_sys::EventTarget>) -> Option<Element> {
    target?.dyn_into::<Element>().ok()
}
