//! What the page calls: `crow.track`, `crow.identify`, the e-commerce helpers, privacy controls
//! and `flush`. host.js builds the page's API object on `window.crow` and replays the calls the
//! loader queued before the module loaded; it reads the arguments the page passes into records
//! and calls these exported functions.
//!
//! The page's one tracker lives in a static, not in a wasm-bindgen class: a class costs a JS
//! wrapper with a finalizer, a handle argument and a borrow check on every call, and the
//! `Rc<RefCell<…>>` behind it (about 1 KB of the gzipped tracker).

use alloc::borrow::ToOwned;

use wasm_bindgen::prelude::wasm_bindgen;

use super::dom::Store::Local;
use super::{CONSENT, OPT_OUT, Tracker, USER, dom, host};
use crate::event::{self, Data};

/// The running tracker, set by [`start`]. A page is single-threaded, so the lock is never
/// contended; it is taken with `try_lock` and never spins.
static TRACKER: spin::Mutex<Option<Tracker>> = spin::Mutex::new(None);

/// Starts the tracker: `key` is the shop's publishable key, `endpoint` the ingest URL. The
/// page's API (`window.crow`) is live when this returns, and the calls the page made while the
/// tracker loaded have been replayed. (The loader runs only in pages; host.js reads `document`
/// as it loads.)
#[wasm_bindgen]
pub fn start(key: &str, endpoint: &str) {
    let mut tracker = Tracker::new(key.to_owned(), endpoint.to_owned());
    tracker.page_view();
    // Leftovers from an earlier page or an outage go out with the first batch.
    tracker.schedule(1_000);
    if let Some(mut slot) = TRACKER.try_lock() {
        *slot = Some(tracker);
    }
    // Last, so that replayed calls come after the page view.
    host::install();
}

/// Runs `f` on the tracker. A call made before [`start`] or while the tracker is busy
/// (re-entered from a listener) is skipped rather than panicking.
pub(super) fn with(f: impl FnOnce(&mut Tracker)) {
    if let Some(mut slot) = TRACKER.try_lock()
        && let Some(t) = slot.as_mut()
    {
        f(t);
    }
}

/// `crow.track(name, props)`: a custom event; `props` is the flat JSON object host.js made
/// of the page's properties.
#[wasm_bindgen]
pub fn track(name: &str, props: &str) {
    with(|t| t.emit(Data::custom(name, props)));
}

/// `crow.identify(id)`: later events carry the shop's own user id.
#[wasm_bindgen]
pub fn identify(id: &str) {
    with(|t| {
        if t.allowed {
            dom::set(Local, USER, id);
            t.user_id = Some(id.to_owned());
            t.emit(Data::identify());
        }
    });
}

/// The e-commerce helpers. `kind`: 0 `addToCart(item)`, 1 `removeFromCart(item)`,
/// 2 `checkoutStarted(cart)`, 3 `purchase(order)`. `products` holds one product record per
/// line; `numbers` each line's quantity and unit price, then the order's value (NaN where the
/// page gave none).
#[wasm_bindgen]
pub fn commerce(kind: u8, products: &str, numbers: &[f64], order_id: &str, currency: &str) {
    let order = event::order_lines(products, numbers);
    let currency = Some(currency).filter(|c| !c.is_empty());
    let data = match (kind, order.single()) {
        (0 | 1, Some(item)) => Data::cart(item, kind == 1),
        (2, _) => Data::checkout_started(&order.items, order.value, currency),
        (3, _) => Data::purchase(order_id, &order.items, order.value.unwrap_or(0.0), currency.unwrap_or_default()),
        _ => return,
    };
    with(|t| t.emit(data));
}

/// The page's privacy calls: 0 `crow.optOut()`, 1 `crow.optIn()`, 2 `crow.consent(false)`,
/// 3 `crow.consent(true)`.
///
/// `optOut`: the visitor said no. Nothing more is captured or sent, and what waited is
/// discarded; remembered across visits. `optIn`: the visitor said yes (this also overrides Do
/// Not Track / GPC). `consent`: the site's consent decision, which takes precedence over Do Not
/// Track and Global Privacy Control (a visitor's `optOut` still wins).
#[wasm_bindgen]
pub fn privacy(choice: u8) {
    with(|t| {
        match choice {
            0 => {
                dom::set(Local, OPT_OUT, "1");
                dom::set(Local, USER, "");
                t.user_id = None;
            }
            1 => {
                dom::set(Local, OPT_OUT, "");
                dom::set(Local, CONSENT, "1");
            }
            _ => dom::set(Local, CONSENT, if choice == 3 { "1" } else { "0" }),
        }
        t.reconsider_privacy();
    });
}

/// `crow.flush()`: send what waits now.
#[wasm_bindgen]
pub fn flush() {
    with(|t| t.flush(false));
}
