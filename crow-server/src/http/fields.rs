//! Header lines of a message head, turned into a [`HeaderMap`] whose values share the head's
//! bytes. One routine for both directions: the server's request heads ([`super::h1`]) and the
//! upstream client's answer heads (`gateway::upstream`).
//!
//! httparse hands out slices borrowed from the read buffer, while values can only share the
//! head once it has been split off and frozen; so the lines are first [`located`] (offsets, on
//! the stack) and the map is built afterwards ([`Located::build`]).
//!
//! Names the gateway meets on every request are interned: for a name the `http` crate does not
//! know, `HeaderName::from_bytes` copies it into an allocation of its own, and each clone of
//! such a name (the gateway's header hygiene clones the names it removes) allocates again.

use std::cell::RefCell;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;

use crate::http::names::{X_API_KEY, X_INTERNAL_KEY, X_ORGANIZATION_ID, X_POWERED_BY, X_REQUEST_ID, X_USER_ID};

/// Most header lines in one head.
pub const MAX_HEADERS: usize = 100;

/// Names outside the `http` crate's table that clients and services send all the time.
static INTERNED: [HeaderName; 9] = [
    X_API_KEY,
    X_REQUEST_ID,
    X_INTERNAL_KEY,
    X_ORGANIZATION_ID,
    X_USER_ID,
    X_POWERED_BY,
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-real-ip"),
];

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

/// The header lines of one head, by position.
#[derive(Debug)]
pub struct Located {
    spans: [Span; MAX_HEADERS],
    len: usize,
}

/// Notes where `lines` (parsed by httparse out of `buf`) sit in `buf`.
pub fn located(buf: &[u8], lines: &[httparse::Header<'_>]) -> Located {
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = (s.as_ptr() as usize).wrapping_sub(base);
        (u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(s.len()).unwrap_or(u32::MAX))
    };
    let mut located = Located { spans: [Span::default(); MAX_HEADERS], len: lines.len().min(MAX_HEADERS) };
    for (span, line) in located.spans.iter_mut().zip(lines) {
        *span = Span { name: at(line.name.as_bytes()), value: at(line.value) };
    }
    located
}

impl Located {
    /// The header map of `head` (the bytes the lines were located in, now frozen), with room
    /// for `spare` more entries. `each` sees every line in order and says whether it is kept.
    pub fn build<E: From<Malformed>>(
        &self,
        head: &Bytes,
        spare: usize,
        mut each: impl FnMut(&HeaderName, &HeaderValue) -> Result<bool, E>,
    ) -> Result<HeaderMap, E> {
        let slice = |(start, len): (u32, u32)| {
            let (start, len) = (start as usize, len as usize);
            head.get(start..start.saturating_add(len)).map(|_| head.slice(start..start + len))
        };
        let mut headers = empty_map(self.len + spare);
        for span in &self.spans[..self.len] {
            let name = slice(span.name).and_then(|raw| name(&raw).ok()).ok_or(Malformed("malformed header name"))?;
            let value = slice(span.value)
                .and_then(|raw| HeaderValue::from_maybe_shared(raw).ok())
                .ok_or(Malformed("malformed header value"))?;
            if each(&name, &value)? {
                headers.append(name, value);
            }
        }
        Ok(headers)
    }
}

/// The name for `raw` (any case), shared rather than copied when it is a common one.
pub fn name(raw: &[u8]) -> Result<HeaderName, axum::http::header::InvalidHeaderName> {
    if raw.len() > 2
        && raw[..2].eq_ignore_ascii_case(b"x-")
        && let Some(known) = INTERNED.iter().find(|n| raw.eq_ignore_ascii_case(n.as_str().as_bytes()))
    {
        return Ok(known.clone());
    }
    HeaderName::from_bytes(raw)
}

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
    fn values_share_the_head_and_names_are_lowercased_and_interned() {
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
