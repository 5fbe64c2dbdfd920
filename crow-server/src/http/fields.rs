//! Header lines of a message head, turned into a [`HeaderMap`] whose values share the head's
//! bytes. One routine for both directions: the server's request heads ([`super::h1`]) and the
//! upstream client's answer heads (`gateway::upstream`).
//!
//! httparse hands out slices borrowed from the read buffer, while values can only share the
//! head once it has been split off and frozen; so the lines are first [`located`] (offsets, on
//! the stack) and the map is built afterwards ([`Located::build`]).
//!
//! Names met on nearly every request or answer are looked up in a small table by length
//! (`name`) before `HeaderName::from_bytes`, which lowercases each name into a buffer and then
//! walks the `http` crate's whole table; and for a name that table lacks (CROW's own `x-` names)
//! it copies the name into an allocation of its own, again at each clone.

use std::cell::RefCell;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use bytes::Bytes;

use crate::http::names::{X_API_KEY, X_INTERNAL_KEY, X_ORGANIZATION_ID, X_POWERED_BY, X_REQUEST_ID, X_USER_ID};

/// Most header lines in one head.
pub const MAX_HEADERS: usize = 100;

/// Header maps kept per thread for reuse, and the largest capacity kept.
const SPARE_MAPS: usize = 32;
const SPARE_CAPACITY: usize = 64;

thread_local! {
    /// Cleared header maps of messages already written, for the next heads parsed on this
    /// thread: a map is two allocations, initialised on creation and freed on drop, and every
    /// proxied request builds two.
    static SPARE: RefCell<Vec<HeaderMap>> = const { RefCell::new(Vec::new()) };
}

/// Gives back the header map of a message that has been written out.
pub fn recycle(mut map: HeaderMap) {
    if map.capacity() > SPARE_CAPACITY {
        return;
    }
    map.clear();
    // Not during thread teardown, and never re-entrantly (dropping a map runs no code of ours).
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut()
            && spare.len() < SPARE_MAPS
        {
            spare.push(map);
        }
    });
}

/// An empty header map with room for `capacity` entries.
fn empty_map(capacity: usize) -> HeaderMap {
    let spare = SPARE.try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.pop())).ok().flatten();
    match spare {
        Some(mut map) => {
            map.reserve(capacity);
            map
        }
        None => HeaderMap::with_capacity(capacity),
    }
}

/// A header line that is not valid HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub &'static str);

/// Where one line's name and value sit in the head (byte offsets and lengths).
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// Lines located without allocating; heads rarely have more (and up to [`MAX_HEADERS`] spill
/// into a vector). Kept small because the array is initialised and moved for every head.
const INLINE_SPANS: usize = 24;

/// The header lines of one head, by position.
#[derive(Debug)]
pub struct Located {
    inline: [Span; INLINE_SPANS],
    more: Vec<Span>,
    len: usize,
}

/// Notes where `lines` (parsed by httparse out of `buf`) sit in `buf`.
pub fn located(buf: &[u8], lines: &[httparse::Header<'_>]) -> Located {
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = (s.as_ptr() as usize).wrapping_sub(base);
        (u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(s.len()).unwrap_or(u32::MAX))
    };
    let lines = &lines[..lines.len().min(MAX_HEADERS)];
    let mut located = Located { inline: [Span::default(); INLINE_SPANS], more: Vec::new(), len: lines.len() };
    for (i, line) in lines.iter().enumerate() {
        let span = Span { name: at(line.name.as_bytes()), value: at(line.value) };
        match located.inline.get_mut(i) {
            Some(slot) => *slot = span,
            None => located.more.push(span),
        }
    }
    located
}

impl Located {
    fn spans(&self) -> impl Iterator<Item = &Span> {
        self.inline[..self.len.min(INLINE_SPANS)].iter().chain(&self.more)
    }

    /// The header map of `head` (the bytes the lines were located in, now frozen), with room
    /// for `spare` more entries. `each` sees every line in order, its value as raw bytes, and
    /// says whether it is kept; only kept values become header values (httparse has already
    /// refused control characters, so a dropped value needs no second check).
    pub fn build<E: From<Malformed>>(
        &self,
        head: &Bytes,
        spare: usize,
        mut each: impl FnMut(&HeaderName, &[u8]) -> Result<bool, E>,
    ) -> Result<HeaderMap, E> {
        // Borrowed views; only a kept value shares the head (a reference count taken).
        let range = |(start, len): (u32, u32)| {
            let (start, len) = (start as usize, len as usize);
            let range = start..start.saturating_add(len);
            head.get(range.clone()).map(|raw| (raw, range))
        };
        let mut headers = empty_map(self.len + spare);
        for span in self.spans() {
            let name =
                range(span.name).and_then(|(raw, _)| name(raw).ok()).ok_or(Malformed("malformed header name"))?;
            let (raw, at) = range(span.value).ok_or(Malformed("malformed header value"))?;
            if each(&name, raw)? {
                let value =
                    HeaderValue::from_maybe_shared(head.slice(at)).map_err(|_| Malformed("malformed header value"))?;
                headers.append(name, value);
            }
        }
        Ok(headers)
    }
}

/// The name for `raw` (any case; a token, as httparse has checked), from the table of common
/// names when it is one.
fn name(raw: &[u8]) -> Result<HeaderName, axum::http::header::InvalidHeaderName> {
    match common(raw) {
        Some(known) => Ok(known.clone()),
        None => HeaderName::from_bytes(raw),
    }
}

/// `raw` (any case) when it is one of the common names below.
fn common(raw: &[u8]) -> Option<&'static HeaderName> {
    let candidates: &'static [(&str, HeaderName)] = match raw.len() {
        4 => &COMMON_4,
        6 => &COMMON_6,
        9 => &COMMON_9,
        10 => &COMMON_10,
        12 => &COMMON_12,
        13 => &COMMON_13,
        14 => &COMMON_14,
        15 => &COMMON_15,
        17 => &COMMON_17,
        _ => &[],
    };
    candidates.iter().find(|(text, _)| same_name(raw, text.as_bytes())).map(|(_, known)| known)
}

/// Whether the name `raw` is `lower` (a lowercase name of the same length) in any case. Header
/// names are tokens (httparse has checked), and for token characters setting bit 5 lowercases
/// letters and changes neither digits nor `-`: one OR and one compare per byte, where
/// `eq_ignore_ascii_case` lowercases both sides.
fn same_name(raw: &[u8], lower: &[u8]) -> bool {
    raw.len() == lower.len() && raw.iter().zip(lower).all(|(r, l)| r | 0x20 == *l)
}

// The common names by length (browsers' and API clients' requests, services' answers, CROW's own
// names from `names`). Each text is its name's lowercase spelling.
static COMMON_4: [(&str, HeaderName); 3] = [("host", header::HOST), ("date", header::DATE), ("vary", header::VARY)];
static COMMON_6: [(&str, HeaderName); 4] =
    [("accept", header::ACCEPT), ("cookie", header::COOKIE), ("origin", header::ORIGIN), ("server", header::SERVER)];
static COMMON_9: [(&str, HeaderName); 3] =
    [("x-api-key", X_API_KEY), ("x-user-id", X_USER_ID), ("x-real-ip", HeaderName::from_static("x-real-ip"))];
static COMMON_10: [(&str, HeaderName); 3] =
    [("connection", header::CONNECTION), ("user-agent", header::USER_AGENT), ("set-cookie", header::SET_COOKIE)];
static COMMON_12: [(&str, HeaderName); 3] =
    [("content-type", header::CONTENT_TYPE), ("x-request-id", X_REQUEST_ID), ("x-powered-by", X_POWERED_BY)];
static COMMON_13: [(&str, HeaderName); 2] =
    [("authorization", header::AUTHORIZATION), ("cache-control", header::CACHE_CONTROL)];
static COMMON_14: [(&str, HeaderName); 2] =
    [("content-length", header::CONTENT_LENGTH), ("x-internal-key", X_INTERNAL_KEY)];
static COMMON_15: [(&str, HeaderName); 3] = [
    ("accept-encoding", header::ACCEPT_ENCODING),
    ("accept-language", header::ACCEPT_LANGUAGE),
    ("x-forwarded-for", HeaderName::from_static("x-forwarded-for")),
];
static COMMON_17: [(&str, HeaderName); 3] = [
    ("transfer-encoding", header::TRANSFER_ENCODING),
    ("x-organization-id", X_ORGANIZATION_ID),
    ("x-forwarded-proto", HeaderName::from_static("x-forwarded-proto")),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(wire: &'static [u8]) -> (Located, Bytes) {
        let mut slots = [httparse::EMPTY_HEADER; 8];
        let mut request = httparse::Request::new(&mut slots);
        request.parse(wire).unwrap();
        (located(wire, request.headers), Bytes::from_static(wire))
    }

    #[test]
    fn values_share_the_head_and_names_are_lowercased_and_shared() {
        let wire = b"GET / HTTP/1.1\r\nHost: a\r\nX-API-Key: crow_sk_1\r\nX-Custom: 2\r\nAccept: */*\r\n\r\n";
        let (located, head) = parse(wire);
        assert_eq!(located.len, 4);
        let mut seen = Vec::new();
        let headers = located
            .build::<Malformed>(&head, 0, |name, _| {
                seen.push(name.as_str().to_owned());
                Ok(name != "accept")
            })
            .unwrap();
        assert_eq!(seen, ["host", "x-api-key", "x-custom", "accept"]);
        assert_eq!(headers.len(), 3);
        let key = &headers[X_API_KEY];
        assert_eq!(key, "crow_sk_1");
        let inside = head.as_ptr() as usize..head.as_ptr() as usize + head.len();
        assert!(inside.contains(&(key.as_bytes().as_ptr() as usize)), "the value is not a copy");
        assert_eq!(name(b"X-Request-ID").unwrap(), "x-request-id");
        assert_eq!(name(b"X-Other").unwrap(), "x-other");
    }

    #[test]
    fn common_names_are_spelled_as_their_names_and_found_in_any_case() {
        let tables: [&[(&str, HeaderName)]; 9] =
            [&COMMON_4, &COMMON_6, &COMMON_9, &COMMON_10, &COMMON_12, &COMMON_13, &COMMON_14, &COMMON_15, &COMMON_17];
        for table in tables {
            for (text, known) in table {
                assert_eq!(*text, known.as_str());
                // Found by the table (a text filed under the wrong length would not be).
                assert_eq!(common(text.to_ascii_uppercase().as_bytes()), Some(known));
                assert_eq!(name(text.as_bytes()).unwrap(), *known);
            }
        }
    }

    #[test]
    fn heads_with_more_lines_than_the_inline_spans_keep_every_line_in_order() {
        let mut wire = String::from("GET / HTTP/1.1\r\n");
        for i in 0..INLINE_SPANS + 5 {
            wire.push_str(&format!("X-H{i}: {i}\r\n"));
        }
        wire.push_str("\r\n");
        let wire: &'static [u8] = wire.into_bytes().leak();
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut slots);
        request.parse(wire).unwrap();
        let located = located(wire, request.headers);
        let headers = located.build::<Malformed>(&Bytes::from_static(wire), 0, |_, _| Ok(true)).unwrap();
        assert_eq!(headers.len(), INLINE_SPANS + 5);
        let values: Vec<_> = headers.values().map(|v| v.to_str().unwrap().parse::<usize>().unwrap()).collect();
        assert_eq!(values, (0..INLINE_SPANS + 5).collect::<Vec<_>>());
    }

    #[test]
    fn recycled_maps_come_back_empty_and_large_ones_are_not_kept() {
        let mut used = HeaderMap::with_capacity(8);
        used.insert(X_API_KEY, HeaderValue::from_static("secret"));
        recycle(used);
        let (located, head) = parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let headers = located.build::<Malformed>(&head, 4, |_, _| Ok(true)).unwrap();
        assert_eq!(headers.len(), 1, "{headers:?}");
        assert!(headers.get(X_API_KEY).is_none());
        assert!(headers.capacity() >= 5);
        let huge = HeaderMap::with_capacity(SPARE_CAPACITY * 4);
        recycle(huge);
        assert!(empty_map(0).capacity() <= SPARE_CAPACITY);
    }

    #[test]
    fn a_line_refused_by_the_callback_or_the_http_crate_is_an_error() {
        let (located, head) = parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let refused = located.build::<Malformed>(&head, 0, |_, _| Err(Malformed("no")));
        assert_eq!(refused.unwrap_err(), Malformed("no"));
        // Offsets outside the head (a head that is not the located one) are refused, not a panic.
        let other = Bytes::from_static(b"short");
        assert!(located.build::<Malformed>(&other, 0, |_, _| Ok(true)).is_err());
    }
}
