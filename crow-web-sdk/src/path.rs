//! Short element paths such as `main>div.card>button#buy`: enough to tell elements apart in a
//! report, short enough to store with every click, and free of text or attribute values that
//! could carry personal data.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// Levels above the clicked element.
pub const DEPTH: usize = 3;

/// One path segment: the tag, then `#id`, or up to two classes.
pub fn segment(tag: &str, id: &str, classes: &[String]) -> String {
    let mut s = tag.to_ascii_lowercase();
    if !id.is_empty() && id.len() <= 40 {
        s.push('#');
        s.push_str(id);
        return s;
    }
    for class in classes.iter().filter(|c| !c.is_empty() && c.len() <= 30).take(2) {
        s.push('.');
        s.push_str(class);
    }
    s
}

/// Joins segments collected from the element upwards.
pub fn join(upward: Vec<String>) -> String {
    let mut out = String::new();
    for (i, s) in upward.iter().rev().enumerate() {
        if i > 0 {
            out.push('>');
        }
        out.push_str(s);
    }
    out
}

/// Separates the fields of a record from host.js.
pub const FIELD: char = '\u{1f}';
/// Separates records.
pub const RECORD: char = '\u{1e}';

/// The path of an element described by host.js: its levels, nearest first, each
/// `TAG␟id␟classes` (classes separated by whitespace). The path stops at the first level with
/// an id, and after [`DEPTH`] levels above the element.
pub fn of(levels: &str) -> String {
    let mut segments = Vec::with_capacity(DEPTH + 1);
    for level in levels.split(RECORD).take(DEPTH + 1) {
        let mut fields = level.split(FIELD);
        let (tag, id) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let classes: Vec<String> =
            fields.next().unwrap_or("").split_whitespace().take(3).map(ToOwned::to_owned).collect();
        segments.push(segment(tag, id, &classes));
        if !id.is_empty() {
            break;
        }
    }
    join(segments)
}

/// Visible text, whitespace collapsed, cut to 64 characters.
pub fn text(raw: &str) -> Option<String> {
    let mut out = String::new();
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > 256 {
            break;
        }
    }
    let cut = crate::event::cut(&out, 64);
    (!cut.is_empty()).then(|| cut.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_short_paths() {
        let p = join(vec![
            segment("BUTTON", "", &["btn".into(), "primary".into(), "large".into()]),
            segment("DIV", "card-7", &["card".into()]),
            segment("MAIN", "", &[]),
        ]);
        assert_eq!(p, "main>div#card-7>button.btn.primary");
        let levels = "BUTTON\u{1f}\u{1f}btn  primary large\u{1e}DIV\u{1f}card-7\u{1f}card\u{1e}MAIN\u{1f}\u{1f}";
        assert_eq!(of(levels), "div#card-7>button.btn.primary", "stops at the first id");
        let deep =
            "A\u{1f}\u{1f}\u{1e}LI\u{1f}\u{1f}\u{1e}UL\u{1f}\u{1f}x\u{1e}NAV\u{1f}\u{1f}\u{1e}HEADER\u{1f}\u{1f}";
        assert_eq!(of(deep), "nav>ul.x>li>a", "at most four segments");
        assert_eq!(of("svg\u{1f}\u{1f}"), "svg");
        assert_eq!(text("  Add\n  to   cart "), Some("Add to cart".into()));
        assert_eq!(text(" \n "), None);
        assert_eq!(text(&"x".repeat(500)).map(|t| t.len()), Some(64));
    }
}
