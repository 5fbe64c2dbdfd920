//! What `host.js` calls: the facts its listeners and observers gathered, timers that fired and
//! answers to sends. Exported functions, like the page's API, but not part of it: host.js
//! alone calls them (the page's `window.crow` carries only the API).

use wasm_bindgen::prelude::wasm_bindgen;

use super::api::with;
use super::{PendingClick, RESCAN_TIMER, Tracker, dom, host};
use crate::event::{self, Data};
use crate::path;

/// Time after a click within which the page must react, or the click was dead.
const DEAD_CLICK_MS: i32 = 2_500;
/// Errors reported per page, so a failing loop cannot flood the queue.
const MAX_ERRORS: u8 = 10;

/// A click at (`x`, `y`) on the element described by `target` (`path::of` levels); `el` is
/// its nearest interactive ancestor (empty: none), with that element's raw `text` (never an
/// input's), the product record of its `data-crow-product` owner (empty: none), and whether it
/// is an action (a link or button, which should change something). Absent strings cross as
/// empty ones: an `Option<String>` costs a conversion of its own in the wasm and the glue.
#[wasm_bindgen]
pub fn click(x: f64, y: f64, target: &str, el: &str, text: &str, product: &str, action: bool) {
    with(|t| t.click(x, y, target, el, text, product, action));
}

/// A form was submitted: its id, its levels, and how many controls it has (never values).
#[wasm_bindgen]
pub fn submit(id: &str, levels: &str, fields: u32) {
    let form = if id.is_empty() { path::of(levels) } else { super::format_key("#", id) };
    with(|t| t.emit(Data::form_submit(&form, fields)));
}

/// The page was hidden or shown; `leaving`: by `pagehide`.
#[wasm_bindgen]
pub fn visibility(hidden: bool, leaving: bool) {
    with(|t| match (hidden, leaving) {
        (false, _) => t.visible(),
        (true, true) if t.page.visible_since.is_none() => {}
        (true, _) => t.hidden(),
    });
}

/// The percentage of the page seen so far (bottom of the viewport over the page height).
#[wasm_bindgen]
pub fn scroll(pct: f64) {
    with(|t| t.scrolled(pct));
}

/// An SPA route change (history API or popstate).
#[wasm_bindgen]
pub fn navigated() {
    with(Tracker::navigated);
}

/// An uncaught error or unhandled rejection: its message, script (empty: unknown) and line
/// (0: unknown; lines count from 1).
#[wasm_bindgen]
pub fn error(message: &str, source: &str, line: u32) {
    with(|t| {
        if t.page.errors < MAX_ERRORS {
            t.page.errors += 1;
            let source = Some(source).filter(|s| !s.is_empty());
            t.emit(Data::js_error(message, source, Some(line).filter(|l| *l > 0)));
        }
    });
}

/// A performance entry: 0 = LCP candidate (start time), 1 = layout shift without recent
/// input (its value), 2 = an interaction (its duration).
#[wasm_bindgen]
pub fn vital(kind: u8, value: f64) {
    with(|t| {
        let v = &mut t.vitals;
        match kind {
            0 => v.lcp = Some(value),
            1 => v.cls += value,
            _ => v.inp = Some(v.inp.map_or(value, |m| m.max(value))),
        }
    });
}

/// Timer `id` fired.
#[wasm_bindgen]
pub fn run(id: u32) {
    with(|t| t.run(id));
}

/// The answer to the last send: its status (0: network error) and `Retry-After` (empty: none).
#[wasm_bindgen]
pub fn answered(status: u16, retry_after: &str) {
    with(|t| t.answered(status, Some(retry_after).filter(|r| !r.is_empty())));
}

impl Tracker {
    #[allow(clippy::too_many_arguments)]
    fn click(&mut self, x: f64, y: f64, target: &str, el: &str, text: &str, product: &str, action: bool) {
        let now = self.now();
        if let Some(count) = self.rage.click(now, x, y) {
            self.emit(Data::rage_click(&path::of(target), count));
        }
        if el.is_empty() {
            return;
        }
        let path = path::of(el);
        let text = path::text(text);
        let product = event::named_product(product).or_else(|| self.page.product.clone());
        self.emit(Data::click(&path, text.as_deref(), product.as_deref()));
        if action {
            let click = PendingClick { path, mutations: host::mutation_count(), url: dom::url() };
            self.check_later(DEAD_CLICK_MS, click);
        }
    }

    fn scrolled(&mut self, pct: f64) {
        let reached = crate::scroll::milestone(pct);
        if reached > self.page.scroll_pct {
            self.page.scroll_pct = reached;
            self.emit(Data::scroll(reached));
        }
    }

    fn navigated(&mut self) {
        self.page_view();
        if !self.page.found_products {
            // An SPA often renders the new route's JSON-LD after changing the URL.
            host::later(500, RESCAN_TIMER);
        }
    }
}
