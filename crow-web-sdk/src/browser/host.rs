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
