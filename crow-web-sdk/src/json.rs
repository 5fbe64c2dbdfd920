//! A minimal JSON writer.
//!
//! The tracker writes a handful of flat objects; serde_json plus core::fmt would add more bytes to
//! the wasm than the whole tracker logic. Numbers other than integers are formatted by the host
//! (`num::fmt_f64`), which the browser does in native code.

use alloc::string::String;

/// Builds one JSON object, field by field. Methods take `&mut self`: a builder moved by value
/// costs a copy of itself per call in the wasm.
#[derive(Debug)]
pub struct Obj {
    buf: String,
}

impl Default for Obj {
    fn default() -> Self {
        Self::new()
    }
}

impl Obj {
    /// `{`
    pub fn new() -> Self {
        let mut buf = String::with_capacity(160);
        buf.push('{');
        Self { buf }
    }

    fn key(&mut self, key: &str) {
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        string(&mut self.buf, key);
        self.buf.push(':');
    }

    /// A string field.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(&mut self.buf, value);
        self
    }

    /// A string field when present.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    /// An integer field.
    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        int(&mut self.buf, value);
        self
    }

    /// A number field; non-finite numbers are left out (JSON has no NaN).
    pub fn num(&mut self, key: &str, value: f64) -> &mut Self {
        if value.is_finite() {
            self.key(key);
            self.buf.push_str(&crate::num::fmt_f64(value));
        }
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.buf.push_str(if value { "true" } else { "false" });
        self
    }

    /// A field whose value is already JSON.
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.buf.push_str(json);
        self
    }

    /// `}`
    pub fn end(&mut self) -> String {
        self.buf.push('}');
        core::mem::take(&mut self.buf)
    }
}

/// `[a,b,…]` from JSON values.
pub fn array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// Appends `value` as a JSON string literal.
pub fn string(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Other control characters, and the two separators JavaScript treats as line ends.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let n = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((n >> shift) & 0xF) as usize] as char);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a decimal integer.
pub fn int(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    digits(out, value.unsigned_abs());
}

/// Appends `n`'s digits, most significant first (at most 20 levels deep; no buffer to index).
fn digits(out: &mut String, n: u64) {
    if n >= 10 {
        digits(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_for_awkward_strings() {
        let nasty = "quote\" back\\slash\nnew\u{1}ctl\u{2028}sep é 🦀";
        let json = Obj::new().str("s", nasty).int("n", -1234567890123).int("z", 0).bool("b", true).end();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["s"], nasty);
        assert_eq!(v["n"], -1234567890123_i64);
        assert_eq!(v["z"], 0);
        assert_eq!(v["b"], true);
        assert!(!json.contains('\u{2028}'), "line separators are escaped for script contexts");
    }

    #[test]
    fn extremes_round_trip() {
        let mut s = String::new();
        int(&mut s, i64::MIN);
        assert_eq!(s, i64::MIN.to_string());
        assert_eq!(array(["1", "{}"]), "[1,{}]");
        assert_eq!(array([]), "[]");
        let skipped = Obj::new().num("nan", f64::NAN).num("x", 2.5).end();
        assert_eq!(skipped, r#"{"x":2.5}"#);
    }
}
