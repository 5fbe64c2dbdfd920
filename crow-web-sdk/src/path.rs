//! Short element paths such as `main>div.card>button#buy`: enough to tell elements apart in a
//! report, short enough to store with every click, and free of text or attribute values that
//! could carry personal data.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::fields::{FIELD, RECORD, split};

/// Levels above the clicked element.
pub const DEPTH: usize = 3;

/// One path segment: the tag, then `#id`, or up to two of the first three classes (of at most
/// 30 characters each; `classes` is the `class` attribute, its white space collapsed by host.js).
pub fn segment(tag: &str, id: &str, classes: &str) -> String {
    let mut s = tag.to_ascii_lowercase();
    if !id.is_empty() && id.len() <= 40 {
        s.push('#');
        s.push_str(id);
        return s;
    }
    for class in split(classes, b' ').filter(|c| !c.is_empty()).take(3).filter(|c| c.len() <= 30).take(2) {
        s.push('.');
        s.push_str(class);
    }
    s
}

/// The path of an element described by host.js: its levels, nearest first, each
/// `TAG␟id␟classes` (classes separated by single spaces). The path stops at the first level with
/// an id, and after [`DEPTH`] levels above the element.
pub fn of(levels: &str) -> String {
    let mut path = String::new();
    for level in split(levels, RECORD).take(DEPTH + 1) {
        let mut fields = split(level, FIELD);
        let (tag, id) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let mut s = segment(tag, id, fields.next().unwrap_or(""));
        // Collected from the element upwards, written from the top down.
        if !path.is_empty() {
            s.push('>');
        }
        path.insert_str(0, &s);
        if !id.is_empty() {
            break;
        }
    }
    path
}

/// Visible text (host.js collapses its white space), cut to 64 characters; `None` when empty.
pub fn text(collapsed: &str) -> Option<String> {
    let cut = crate::event::cut(collapsed, 64);
    (!cut.is_empty()).then(|| cut.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_short_paths() {
        assert_eq!(segment("BUTTON", "", "btn primary large"), "button.btn.primary");
        assert_eq!(segment("DIV", "card-7", "card"), "div#card-7");
        assert_eq!(
            segment("A", &"i".repeat(41), &format!("{} x y", "c".repeat(31))),
            "a.x.y",
            "long ids and classes skipped"
        );
        assert_eq!(segment("LI", "", "a b c d"), "li.a.b");
        assert_eq!(
            of("BUTTON\u{1f}\u{1f}btn\u{1e}DIV\u{1f}\u{1f}card\u{1e}MAIN\u{1f}\u{1f}"),
            "main>div.card>button.btn"
        );
        let levels = "BUTTON\u{1f}\u{1f}btn  primary large\u{1e}DIV\u{1f}card-7\u{1f}card\u{1e}MAIN\u{1f}\u{1f}";
        assert_eq!(of(levels), "div#card-7>button.btn.primary", "stops at the first id");
        let deep =
            "A\u{1f}\u{1f}\u{1e}LI\u{1f}\u{1f}\u{1e}UL\u{1f}\u{1f}x\u{1e}NAV\u{1f}\u{1f}\u{1e}HEADER\u{1f}\u{1f}";
        assert_eq!(of(deep), "nav>ul.x>li>a", "at most four segments");
        assert_eq!(of("svg\u{1f}\u{1f}"), "svg");
        assert_eq!(text("Add to cart"), Some("Add to cart".into()));
        assert_eq!(text(""), None);
        assert_eq!(text(&"x".repeat(500)).map(|t| t.len()), Some(64));
    }
}
