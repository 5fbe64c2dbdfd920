//! The functions `host.js` gives the tracker: DOM facts as strings and numbers, and the effects
//! that need a JavaScript callback (listeners, timers, fetch). What host.js calls back is in
//! `hooks.rs`.

use alloc::string::String;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/src/browser/host.js")]
extern "C" {
    /// Installs the listeners and observers, which call the module's exported functions (`api`,
    /// `hooks`; the loader leaves the module on `window.crow._m`), puts the page's API in place
    /// of the loader's stubs on `window.crow` and replays the calls the loader queued.
    pub fn install();
    /// The page's schema.org Products as records (`id␟sku␟url␟name`, read by `event::product`).
    pub fn products() -> String;
    /// The browser's privacy signals: 1 = Do Not Track, 2 = Global Privacy Control.
    #[wasm_bindgen(js_name = privacySignals)]
    pub fn privacy_signals() -> u8;
    /// The value stored under `key` in localStorage (`local`) or sessionStorage.
    pub fn load(local: bool, key: &str) -> Option<String>;
    /// Stores `value` under `key` (an empty value removes the key); a refusal is ignored.
    pub fn store(local: bool, key: &str, value: &str);
    /// The localStorage keys starting with `prefix`, separated by U+001E.
    #[wasm_bindgen(js_name = storedKeys)]
    pub fn stored_keys(prefix: &str) -> String;
    /// `location.href`.
    pub fn href() -> String;
    /// `document.referrer`.
    pub fn referrer() -> String;
    /// `document.title`.
    pub fn title() -> String;
    /// Whether the page is visible.
    pub fn visible() -> bool;
    /// `Date.now()`: Unix time in milliseconds.
    pub fn clock() -> f64;
    /// `Math.random()`: uniform in [0, 1).
    pub fn uniform() -> f64;
    /// `performance.now()`: milliseconds since the page started, never going back.
    pub fn now() -> f64;
    /// Fills `bytes` from `crypto.getRandomValues` (`Math.random` where that is missing).
    pub fn random(bytes: &mut [u8]);
    /// DOM mutations seen so far.
    #[wasm_bindgen(js_name = mutationCount)]
    pub fn mutation_count() -> u32;
    /// Calls `hooks::run(id)` after `ms`; returns the timer handle.
    pub fn later(ms: i32, id: u32) -> i32;
    /// Cancels a timer.
    pub fn cancel(handle: i32);
    /// POSTs `body`; the answer goes to `hooks::answered`.
    pub fn post(url: &str, key: &str, body: &str, keepalive: bool);
}
