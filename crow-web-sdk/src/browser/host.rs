//! The functions `host.js` gives the tracker: DOM facts as strings and numbers, and the effects
//! that need a JavaScript callback (listeners, timers, fetch). What host.js calls back is in
//! `hooks.rs`.

use alloc::string::String;

use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use super::api::Crow;

#[wasm_bindgen(module = "/src/browser/host.js")]
extern "C" {
    /// Installs the listeners and observers, which call the methods of `tracker`, and returns
    /// the page's API object (`window.crow` once loaded).
    pub fn install(tracker: Crow) -> JsValue;
    /// The page's schema.org Products as records (`event::Product::from_record`).
    pub fn products() -> String;
    /// The browser's privacy signals: 1 = Do Not Track, 2 = Global Privacy Control.
    #[wasm_bindgen(js_name = privacySignals)]
    pub fn privacy_signals() -> u8;
    /// The page's `window` (the loader runs only in pages). A function rather than
    /// `web_sys::window()`, which probes four globals, each an import, and rather than a
    /// `thread_local_v2` static, whose lazy initialiser is called through the function table
    /// and so keeps every function in that table (core::fmt's among them) alive in the wasm.
    #[wasm_bindgen(js_name = win)]
    pub fn window() -> web_sys::Window;
    /// DOM mutations seen so far.
    #[wasm_bindgen(js_name = mutationCount)]
    pub fn mutation_count() -> u32;
    /// Calls `Crow::run(id)` after `ms`; returns the timer handle.
    pub fn later(ms: i32, id: u32) -> i32;
    /// Cancels a timer.
    pub fn cancel(handle: i32);
    /// POSTs `body`; the answer goes to `Crow::answered`.
    pub fn post(url: &str, key: &str, body: &str, keepalive: bool);
}
