//! What the page calls: `crow.track`, `crow.identify`, the e-commerce helpers, privacy controls
//! and `flush`, as methods of the `Crow` handle that `start` returns. The loader forwards calls
//! made before the module loaded.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use super::{CONSENT, OPT_OUT, Tracker, USER, dom, listen};
use crate::event::{Data, LineItem};
use crate::json::{self, Obj};

/// The running tracker, as the page holds it. Listeners and timers hold weak references; this
/// handle (kept by the loader for the page's lifetime) keeps it alive.
#[wasm_bindgen]
#[allow(missing_debug_implementations)]
pub struct Crow {
    tracker: Rc<RefCell<Tracker>>,
}

/// Starts the tracker: `key` is the shop's publishable key, `endpoint` the ingest URL.
#[wasm_bindgen]
pub fn start(key: String, endpoint: String) -> Option<Crow> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let tracker = Rc::new_cyclic(|me| RefCell::new(Tracker::new(me.clone(), window, document, key, endpoint)));
    let crow = Crow { tracker };
    crow.with(|t| {
        listen::install(t);
        t.page_view();
        // Leftovers from an earlier page or an outage go out with the first batch.
        t.schedule(1_000);
    });
    Some(crow)
}

impl Crow {
    fn with(&self, f: impl FnOnce(&mut Tracker)) {
        if let Ok(mut t) = self.tracker.try_borrow_mut() {
            f(&mut t);
        }
    }
}

#[wasm_bindgen]
impl Crow {
    /// `crow.track(name, props)`: a custom event with flat properties.
    pub fn track(&self, name: String, props: JsValue) {
        let props = flat_props(&props);
        self.with(|t| t.emit(Data::Custom { name, props }));
    }

    /// `crow.identify(id)`: later events carry the shop's own user id.
    pub fn identify(&self, id: String) {
        self.with(|t| {
            if t.allowed {
                dom::set(t.local.as_ref(), USER, &id);
                t.user_id = Some(id);
                t.emit(Data::Identify);
            }
        });
    }

    /// `crow.addToCart({ id, sku, name, price, quantity })`.
    #[wasm_bindgen(js_name = addToCart)]
    pub fn add_to_cart(&self, item: JsValue) {
        let item = line(&item);
        self.with(|t| t.emit(Data::AddToCart(item)));
    }

    /// `crow.removeFromCart({ id, sku, name, price, quantity })`.
    #[wasm_bindgen(js_name = removeFromCart)]
    pub fn remove_from_cart(&self, item: JsValue) {
        let item = line(&item);
        self.with(|t| t.emit(Data::RemoveFromCart(item)));
    }

    /// `crow.checkoutStarted({ items, value, currency })`.
    #[wasm_bindgen(js_name = checkoutStarted)]
    pub fn checkout_started(&self, cart: JsValue) {
        let data = Data::CheckoutStarted {
            items: lines(&cart),
            value: dom::number(&cart, "value"),
            currency: dom::string(&cart, "currency"),
        };
        self.with(|t| t.emit(data));
    }

    /// `crow.purchase({ orderId, items, value, currency })`.
    pub fn purchase(&self, order: JsValue) {
        let data = Data::Purchase {
            order_id: dom::string(&order, "orderId").unwrap_or_default(),
            items: lines(&order),
            value: dom::number(&order, "value").unwrap_or(0.0),
            currency: dom::string(&order, "currency").unwrap_or_default(),
        };
        self.with(|t| t.emit(data));
    }

    /// `crow.optOut()`: the visitor said no. Nothing more is captured or sent, and what waited
    /// is discarded; remembered across visits.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        self.with(|t| {
            dom::set(t.local.as_ref(), OPT_OUT, "1");
            dom::set(t.local.as_ref(), USER, "");
            t.user_id = None;
            t.reconsider_privacy();
        });
    }

    /// `crow.optIn()`: the visitor said yes (this also overrides Do Not Track / GPC).
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        self.with(|t| {
            dom::set(t.local.as_ref(), OPT_OUT, "");
            dom::set(t.local.as_ref(), CONSENT, "1");
            t.reconsider_privacy();
        });
    }

    /// `crow.consent(granted)`: the site's consent decision, which takes precedence over Do Not
    /// Track and Global Privacy Control (a visitor's `optOut` still wins).
    pub fn consent(&self, granted: bool) {
        self.with(|t| {
            dom::set(t.local.as_ref(), CONSENT, if granted { "1" } else { "0" });
            t.reconsider_privacy();
        });
    }

    /// `crow.flush()`: send what waits now.
    pub fn flush(&self) {
        self.with(|t| t.flush(false));
    }
}

fn line(obj: &JsValue) -> LineItem {
    LineItem {
        product: dom::product_arg(obj),
        quantity: dom::number(obj, "quantity").map_or(1, |q| q.clamp(1.0, 1e6) as u32),
        price: dom::number(obj, "price"),
    }
}

fn lines(obj: &JsValue) -> Vec<LineItem> {
    dom::array(obj, "items").iter().map(line).collect()
}

/// `props` as a flat JSON object: strings, finite numbers, booleans and null are kept; nested
/// values are sent as their JSON text (ingest accepts flat properties only). At most 64 entries.
fn flat_props(props: &JsValue) -> String {
    let mut o = Obj::new();
    if !props.is_object() {
        return o.end();
    }
    for entry in Object::entries(props.unchecked_ref()).iter().take(64) {
        let key = Reflect::get_u32(&entry, 0).ok().and_then(|k| k.as_string()).unwrap_or_default();
        let v = Reflect::get_u32(&entry, 1).unwrap_or(JsValue::NULL);
        let key = crate::event::cut(&key, 128);
        o = if let Some(s) = v.as_string() {
            o.str(key, crate::event::clip(&s))
        } else if let Some(n) = v.as_f64() {
            if n.is_finite() { o.num(key, n) } else { o.raw(key, "null") }
        } else if let Some(b) = v.as_bool() {
            o.bool(key, b)
        } else if v.is_null() || v.is_undefined() {
            o.raw(key, "null")
        } else {
            let text: String = js_sys::JSON::stringify(&v).map(String::from).unwrap_or_default();
            let mut quoted = String::new();
            json::string(&mut quoted, crate::event::clip(&text));
            o.raw(key, &quoted)
        };
    }
    o.end()
}
