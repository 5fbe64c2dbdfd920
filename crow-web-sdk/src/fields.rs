//! Records from host.js and the tracker's own stored values are split at ASCII separators:
//! fields at U+001F, records at U+001E, outbox lines at `\n`, the session at `|`, the URL at `#`.
//! One splitter serves them all; `str::split` with a `char` would bring its UTF-8 searcher into
//! the wasm, and each other separator type another copy of it.

/// Separates the fields of a record from host.js.
pub const FIELD: u8 = 0x1f;
/// Separates records.
pub const RECORD: u8 = 0x1e;

/// The parts of `s` between each `sep` (an ASCII byte, so every cut is at a character
/// boundary), like `str::split`: an empty string is one empty part.
pub fn split(s: &str, sep: u8) -> Split<'_> {
    Split { rest: Some(s), sep }
}

/// The iterator of [`split`].
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match s.bytes().position(|b| b == self.sep).and_then(|i| s.split_at_checked(i)) {
            Some((part, rest)) => {
                self.rest = rest.get(1..);
                Some(part)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_str_split() {
        for s in ["", "a", "a|b", "|", "a||b|", "é|🦀|", "||"] {
            assert_eq!(split(s, b'|').collect::<Vec<_>>(), s.split('|').collect::<Vec<_>>(), "{s:?}");
        }
    }
}
