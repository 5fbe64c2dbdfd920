//! Autocapture: the listeners and observers the tracker installs once per page.
//!
//! One JS function handles every DOM event type and one every performance entry, dispatching
//! on the type: each distinct Rust closure costs its own glue in the wasm and the JS shim.

use alloc::string::String;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    ErrorEvent, Event, EventTarget, HtmlFormElement, MouseEvent, MutationObserver, MutationObserverInit,
    PerformanceEntry, PerformanceObserver, PerformanceObserverEntryList, PerformanceObserverInit,
    PromiseRejectionEvent, VisibilityState,
};

use super::{Job, Tracker, dom, with};
use crate::event::Data;

/// Time after a click within which the page must react, or the click was dead.
const DEAD_CLICK_MS: i32 = 2_500;
/// Errors reported per page, so a failing loop cannot flood the queue.
const MAX_ERRORS: u8 = 10;

/// Installs every listener. They live as long as the page (`forget`).
pub fn install(t: &Tracker) {
    let m = t.me.clone();
    let on_event = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        with(&m, |t| t.dispatch(&e));
    });
    let f: &Function = on_event.as_ref().unchecked_ref();
    let (d, w): (&EventTarget, &EventTarget) = (t.document.as_ref(), t.window.as_ref());
    // Clicks and submits in the capture phase: a page that stops propagation still counts.
    let listeners: [(&EventTarget, &str, bool); 9] = [
        (d, "click", true),
        (d, "submit", true),
        (d, "visibilitychange", false),
        (w, "scroll", false),
        (w, "popstate", false),
        (w, "crow:navigate", false), // dispatched by the loader's history.pushState wrapper
        (w, "pagehide", false),
        (w, "error", false),
        (w, "unhandledrejection", false),
    ];
    for (target, kind, capture) in listeners {
        let _ = target.add_event_listener_with_callback_and_bool(kind, f, capture);
    }
    on_event.forget();

    let m = t.me.clone();
    let on_mutation = Closure::<dyn FnMut()>::new(move || {
        with(&m, |t| t.mutations = t.mutations.wrapping_add(1));
    });
    if let (Ok(observer), Some(root)) = (MutationObserver::new(on_mutation.as_ref().unchecked_ref()), t.document.body())
    {
        let init = MutationObserverInit::new();
        init.set_child_list(true);
        init.set_subtree(true);
        init.set_attributes(true);
        init.set_character_data(true);
        let _ = observer.observe_with_options(&root, &init);
    }
    on_mutation.forget();

    let m = t.me.clone();
    let on_entries =
        Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(move |list: PerformanceObserverEntryList| {
            with(&m, |t| {
                for entry in list.get_entries().iter() {
                    if let Ok(entry) = entry.dyn_into::<PerformanceEntry>() {
                        t.vital(&entry);
                    }
                }
            });
        });
    for kind in ["largest-contentful-paint", "layout-shift", "event"] {
        observe(on_entries.as_ref().unchecked_ref(), kind);
    }
    on_entries.forget();
}

/// One observer per entry type (`type` + `buffered` cannot be combined with `entryTypes`).
fn observe(callback: &Function, kind: &str) {
    let Ok(observer) = PerformanceObserver::new(callback) else { return };
    let init = Object::new();
    let _ = Reflect::set(&init, &"type".into(), &kind.into());
    let _ = Reflect::set(&init, &"buffered".into(), &JsValue::TRUE);
    let _ = Reflect::set(&init, &"durationThreshold".into(), &JsValue::from_f64(40.0));
    let init: PerformanceObserverInit = init.unchecked_into();
    // Called through Reflect so that an entry type this browser lacks (it throws) is caught.
    if let Ok(observe) = Reflect::get(&observer, &"observe".into()) {
        let _ = observe.unchecked_ref::<Function>().call1(&observer, &init);
    }
}

fn num(entry: &JsValue, key: &str) -> f64 {
    Reflect::get(entry, &key.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
}

impl Tracker {
    fn dispatch(&mut self, e: &Event) {
        match e.type_().as_str() {
            "click" => {
                if let Some(e) = e.dyn_ref::<MouseEvent>() {
                    self.click(e);
                }
            }
            "submit" => self.submit(e),
            "scroll" => self.scrolled(),
            "popstate" | "crow:navigate" => self.navigated(),
            "visibilitychange" if self.document.visibility_state() == VisibilityState::Hidden => self.hidden(),
            "visibilitychange" => self.visible(),
            "pagehide" if self.page.visible_since.is_some() => self.hidden(),
            "error" => {
                if let Some(e) = e.dyn_ref::<ErrorEvent>() {
                    let (source, line) = (e.filename(), e.lineno());
                    self.error(e.message(), Some(source).filter(|s| !s.is_empty()), Some(line).filter(|l| *l > 0));
                }
            }
            "unhandledrejection" => {
                if let Some(e) = e.dyn_ref::<PromiseRejectionEvent>() {
                    let reason = e.reason();
                    let message = Reflect::get(&reason, &"message".into())
                        .ok()
                        .and_then(|m| m.as_string())
                        .or_else(|| reason.as_string())
                        .unwrap_or_else(|| "unhandled rejection".into());
                    self.error(message, None, None);
                }
            }
            _ => {}
        }
    }

    /// Web vitals: LCP is the last candidate's time, CLS the sum of shifts not caused by input,
    /// INP (approximated) the longest interaction.
    fn vital(&mut self, e: &PerformanceEntry) {
        match e.entry_type().as_str() {
            "largest-contentful-paint" => self.vitals.lcp = Some(e.start_time()),
            "layout-shift" => {
                let recent_input =
                    Reflect::get(e, &"hadRecentInput".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false);
                if !recent_input {
                    self.vitals.cls += num(e, "value");
                }
            }
            "event" if num(e, "interactionId") > 0.0 => {
                let d = e.duration();
                self.vitals.inp = Some(self.vitals.inp.map_or(d, |m| m.max(d)));
            }
            _ => {}
        }
    }

    fn click(&mut self, e: &MouseEvent) {
        let Some(target) = dom::element(e.target()) else { return };
        let now = self.now();
        if let Some(count) = self.rage.click(now, f64::from(e.client_x()), f64::from(e.client_y())) {
            self.emit(Data::RageClick { path: dom::path_of(&target), count });
        }
        let Some(el) = target.closest(dom::INTERACTIVE).ok().flatten() else { return };
        let path = dom::path_of(&el);
        let tag = el.tag_name();
        let text = if tag.eq_ignore_ascii_case("input") || tag.eq_ignore_ascii_case("textarea") {
            None // what a visitor typed is never read
        } else {
            el.text_content().and_then(|t| crate::path::text(&t))
        };
        let product = dom::element_product(&el).or_else(|| self.page.product.clone());
        self.emit(Data::Click { path: path.clone(), text, product });
        if el.matches(dom::ACTIONS).unwrap_or(false) {
            let job = Job::DeadClick { path, mutations: self.mutations, url: dom::url(&self.window) };
            self.later(DEAD_CLICK_MS, job);
        }
    }

    pub(super) fn dead_click_check(&mut self, path: String, mutations: u32, url: String) {
        if self.mutations == mutations && dom::url(&self.window) == url {
            self.emit(Data::DeadClick { path });
        }
    }

    fn submit(&mut self, e: &Event) {
        let Some(form) = e.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
        let name = if form.id().is_empty() { dom::path_of(&form) } else { super::format_key("#", &form.id()) };
        self.emit(Data::FormSubmit { form: name, field_count: form.elements().length() });
    }

    fn scrolled(&mut self) {
        let Some(root) = self.document.document_element() else { return };
        let height = f64::from(root.scroll_height());
        let seen = self.window.scroll_y().unwrap_or(0.0)
            + self.window.inner_height().ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
        if height <= 0.0 {
            return;
        }
        let pct = (seen * 100.0 / height).clamp(0.0, 100.0);
        let reached = [100u8, 75, 50, 25].into_iter().find(|m| pct + 0.5 >= f64::from(*m)).unwrap_or(0);
        if reached > self.page.scroll_pct {
            self.page.scroll_pct = reached;
            self.emit(Data::Scroll { depth_pct: reached });
        }
    }

    fn navigated(&mut self) {
        self.page_view();
        if !self.page.found_products {
            // An SPA often renders the new route's JSON-LD after changing the URL.
            self.later(500, Job::Rescan(self.page.url.clone()));
        }
    }

    pub(super) fn rescan(&mut self, url: String) {
        if self.page.url == url && !self.page.found_products {
            self.detect_products();
        }
    }

    fn error(&mut self, message: String, source: Option<String>, line: Option<u32>) {
        if self.page.errors < MAX_ERRORS {
            self.page.errors += 1;
            self.emit(Data::JsError { message, source, line });
        }
    }
}
