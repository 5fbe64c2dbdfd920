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

/// A decimal integer of ASCII digits only (no sign, no space) and at most 19 of them, as stored
/// times and `Retry-After` seconds are written; `None` for anything else. (`str::parse` would do,
/// at twice the wasm bytes, for a `+` sign nobody writes here; 19 digits cannot overflow, so no
/// 128-bit overflow check is needed either.)
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let digit = b.wrapping_sub(b'0');
        (digit <= 9).then(|| n * 10 + u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::parse_u64;

    #[test]
    fn parses_plain_decimal_integers_only() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("1795373276123"), Some(1_795_373_276_123));
        assert_eq!(parse_u64("9999999999999999999"), Some(9_999_999_999_999_999_999));
        for bad in ["", "10000000000000000000", "+1", "-1", " 1", "1.5", "x", "٣"] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
    }
}
