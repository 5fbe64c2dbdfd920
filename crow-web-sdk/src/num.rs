//! Number formatting: the browser's own `Number#toString` in wasm (no float formatter in the
//! binary), Rust's elsewhere (tests). Both print the shortest round-tripping form.

use alloc::string::String;

/// Shortest decimal form of a finite `f64`.
#[cfg(target_arch = "wasm32")]
pub fn fmt_f64(value: f64) -> String {
    js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_else(|_| String::from("0"))
}

/// Shortest decimal form of a finite `f64`.
#[cfg(not(target_arch = "wasm32"))]
pub fn fmt_f64(value: f64) -> String {
    value.to_string()
}
