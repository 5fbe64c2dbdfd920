//! Number formatting: the browser's own `String(number)` in wasm (no float formatter in the
//! binary), Rust's elsewhere (tests). Both print the shortest round-tripping form.

use alloc::string::String;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// JavaScript's `String(value)`: a number crosses as a plain f64 and comes back as text
    /// (`Number#toString` through js-sys would need a JS object handle and an error path).
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: f64) -> String;
}

/// Shortest decimal form of a finite `f64`.
#[cfg(target_arch = "wasm32")]
pub fn fmt_f64(value: f64) -> String {
    js_string(value)
}

/// Shortest decimal form of a finite `f64`.
#[cfg(not(target_arch = "wasm32"))]
pub fn fmt_f64(value: f64) -> String {
    value.to_string()
}
