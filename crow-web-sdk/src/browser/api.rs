//! What the page calls: `crow.track`, `crow.identify`, the e-commerce helpers, privacy controls
//! and `flush`. host.js builds the page's API object (`start` returns it to the loader, which
//! forwards calls made before the module loaded); it reads the arguments the page passes into
//! records and calls these methods of the `Crow` handle.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::prelude::wasm_bindgen;

use super::dom::Store::Local;
use super::{CONSENT, OPT_OUT, Tracker, USER, dom, host};
use crate::event::{Data, LineItem, Product};
use crate::path::RECORD;

/// The running tracker. host.js keeps this handle for the page's lifetime.
#[wasm_bindgen]
#[allow(missing_debug_implementations)]
pub struct Crow {
    tracker: Rc<RefCell<Tracker>>,
}

/// Starts the tracker: `key` is the shop's publishable key, `endpoint` the ingest URL. The
/// page's API (`window.crow`) is live when this returns, and the calls the page made while the
/// tracker loaded have been replayed. (The loader runs only in pages; host.js reads `document`
/// as it loads.)
#[wasm_bindgen]
pub fn start(key: String, endpoint: String) {
    let tracker = Rc::new(RefCell::new(Tracker::new(key, endpoint)));
    if let Ok(mut t) = tracker.try_borrow_mut() {
        t.page_view();
        // Leftovers from an earlier page or an outage go out with the first batch.
        t.schedule(1_000);
    }
    // Last, so that replayed calls come after the page view.
    host::install(Crow { tracker });
}

impl Crow {
    /// Runs `f` on the tracker. A call made while the tracker is busy (re-entered from a
    /// listener) is skipped rather than panicking.
    pub(super) fn with(&self, f: impl FnOnce(&mut Tracker)) {
        if let Ok(mut t) = self.tracker.try_borrow_mut() {
            f(&mut t);
        }
    }
}

#[wasm_bindgen]
impl Crow {
    /// `crow.track(name, props)`: a custom event; `props` is the flat JSON object host.js made
    /// of the page's properties.
    pub fn track(&self, name: String, props: String) {
        self.with(|t| t.emit(Data::Custom { name, props }));
    }

    /// `crow.identify(id)`: later events carry the shop's own user id.
    pub fn identify(&self, id: String) {
        self.with(|t| {
            if t.allowed {
                dom::set(Local, USER, &id);
                t.user_id = Some(id);
                t.emit(Data::Identify);
            }
        });
    }

    /// The e-commerce helpers. `kind`: 0 `addToCart(item)`, 1 `removeFromCart(item)`,
    /// 2 `checkoutStarted(cart)`, 3 `purchase(order)`. `products` holds one product record per
    /// line; `numbers` each line's quantity and unit price, then the order's value (NaN where the
    /// page gave none).
    pub fn commerce(&self, kind: u8, products: String, numbers: Vec<f64>, order_id: String, currency: String) {
        let number = |i: usize| numbers.get(i).copied().filter(|v| v.is_finite());
        let mut items: Vec<LineItem> = products
            .split(RECORD)
            .enumerate()
            .map(|(i, p)| LineItem {
                product: Product::from_record(p),
                quantity: number(2 * i).map_or(1, |q| q.clamp(1.0, 1e6) as u32),
                price: number(2 * i + 1),
            })
            .collect();
        let value = number(2 * items.len());
        let currency = Some(currency).filter(|c| !c.is_empty());
        let data = match kind {
            0 | 1 if items.len() == 1 => {
                let item = items.remove(0);
                if kind == 0 { Data::AddToCart(item) } else { Data::RemoveFromCart(item) }
            }
            2 => Data::CheckoutStarted { items, value, currency },
            3 => {
                Data::Purchase { order_id, items, value: value.unwrap_or(0.0), currency: currency.unwrap_or_default() }
            }
            _ => return,
        };
        self.with(|t| t.emit(data));
    }

    /// `crow.optOut()`: the visitor said no. Nothing more is captured or sent, and what waited
    /// is discarded; remembered across visits.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        self.with(|t| {
            dom::set(Local, OPT_OUT, "1");
            dom::set(Local, USER, "");
            t.user_id = None;
            t.reconsider_privacy();
        });
    }

    /// `crow.optIn()`: the visitor said yes (this also overrides Do Not Track / GPC).
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        self.with(|t| {
            dom::set(Local, OPT_OUT, "");
            dom::set(Local, CONSENT, "1");
            t.reconsider_privacy();
        });
    }

    /// `crow.consent(granted)`: the site's consent decision, which takes precedence over Do Not
    /// Track and Global Privacy Control (a visitor's `optOut` still wins).
    pub fn consent(&self, granted: bool) {
        self.with(|t| {
            dom::set(Local, CONSENT, if granted { "1" } else { "0" });
            t.reconsider_privacy();
        });
    }

    /// `crow.flush()`: send what waits now.
    pub fn flush(&self) {
        self.with(|t| t.flush(false));
    }
}
