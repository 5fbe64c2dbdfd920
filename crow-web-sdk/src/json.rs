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

    /// The fields of `other` (written by another `Obj`), after this one's.
    pub fn fields(&mut self, other: &Obj) -> &mut Self {
        if let Some(fields) = other.buf.get(1..).filter(|f| !f.is_empty()) {
            if self.buf.len() > 1 {
                self.buf.push(',');
            }
            self.buf.push_str(fields);
        }
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

/// Appends `value` as a JSON string literal. It is read byte by byte: what needs escaping is
/// ASCII (`"`, `\`, control characters) or U+2028/U+2029 (`E2 80 A8`/`A9`, which JavaScript
/// treats as line ends), and everything between is copied as it is, so no UTF-8 decoder or
/// encoder is needed. Every escape is written as `\uXXXX`: one form instead of six, for
/// characters that are rare in what the tracker sends.
pub fn string(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    out.push('"');
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let (code, len) = match b {
            0..=0x1f | b'"' | b'\\' => (u32::from(b), 1),
            0xE2 => match bytes.get(i + 1..i + 3) {
                Some(&[0x80, c @ (0xA8 | 0xA9)]) => (0x2000 + u32::from(c - 0x80), 3),
                _ => continue,
            },
            _ => continue,
        };
        out.push_str(value.get(copied..i).unwrap_or_default());
        copied = i + len;
        out.push_str("\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((code >> shift) & 0xF) as usize] as char);
        }
    }
    out.push_str(value.get(copied..).unwrap_or_default());
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
        // Every escape, and the neighbours of U+2028/U+2029 (same lead bytes) left as they are.
        for s in ["", "\t\r\n\u{0}\u{1f}\u{7f}", "\u{2027}\u{2029}\u{202a}€", "a\u{2028}", "\"\\\"", "🦀é\u{2029}x"]
        {
            let mut out = String::new();
            string(&mut out, s);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s, "{out}");
            assert!(!out.contains(['\u{2028}', '\u{2029}']) && !out.bytes().any(|b| b < 0x20), "{out}");
        }
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
