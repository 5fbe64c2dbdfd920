//! Hop-by-hop headers (RFC 9110 §7.6.1): headers that describe one connection and are never
//! passed on — the fixed list, plus whatever a `Connection` header names. The gateway strips
//! them from requests it forwards and its upstream client from answers it reads, so neither
//! side can push a header through by declaring it hop-by-hop, nor keep one the other declared so.
//!
//! Stripping is one pass over the headers present ([`remove_where`]) rather than one hashed
//! lookup per name that might be present: requests and answers carry a handful of headers and
//! usually none of those removed.

use axum::http::{HeaderMap, HeaderName, header};

/// Headers that belong to one connection, never passed on in either direction. (A `static`,
/// not a `const`: a const array is built and dropped again at every use.)
pub static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The connection-specific headers of a message: the fixed list and those its `Connection`
/// headers name.
#[derive(Debug, Default)]
pub struct HopByHop {
    /// Named by `Connection` and not already in [`HOP_BY_HOP`] (almost always empty).
    named: Vec<HeaderName>,
}

impl HopByHop {
    /// Reads what `headers`' `Connection` headers name.
    pub fn of(headers: &HeaderMap) -> Self {
        let mut hop = Self::default();
        for value in headers.get_all(header::CONNECTION) {
            hop.note(value.as_bytes());
        }
        hop
    }

    /// Adds what one `Connection` header value names.
    pub fn note(&mut self, connection: &[u8]) {
        for token in connection.split(|b| *b == b',') {
            let token = token.trim_ascii();
            let known = token.is_empty()
                || token.eq_ignore_ascii_case(b"close")
                || HOP_BY_HOP.iter().any(|h| token.eq_ignore_ascii_case(h.as_str().as_bytes()));
            if !known && let Ok(name) = HeaderName::from_bytes(token) {
                self.named.push(name);
            }
        }
    }

    /// Whether `Connection` named headers beyond the fixed list.
    pub fn names_others(&self) -> bool {
        !self.named.is_empty()
    }

    /// Whether `name` is connection-specific.
    pub fn contains(&self, name: &HeaderName) -> bool {
        HOP_BY_HOP.contains(name) || self.named.contains(name)
    }
}

/// Whether a comma-separated header value (`Connection: keep-alive, close`) lists `token`, in
/// any case.
pub fn lists(value: &[u8], token: &[u8]) -> bool {
    value.split(|b| *b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Removes every header for which `doomed` holds (without allocating: one scan per name
/// removed, and usually none is).
pub fn remove_where(headers: &mut HeaderMap, doomed: impl Fn(&HeaderName) -> bool) {
    while let Some(name) = headers.keys().find(|name| doomed(name)).cloned() {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn headers_named_by_connection_are_hop_by_hop_with_the_fixed_list() {
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("keep-alive, X-Debug-Token, close"));
        h.append(header::CONNECTION, HeaderValue::from_static("x-trace"));
        for name in ["x-debug-token", "x-trace", "keep-alive", "te", "upgrade"] {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("1"));
        }
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let hop = HopByHop::of(&h);
        assert_eq!(hop.named.len(), 2, "{:?}", hop.named);
        remove_where(&mut h, |n| hop.contains(n));
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::ACCEPT));
    }

    #[test]
    fn removal_takes_every_copy_and_only_what_is_asked() {
        let mut h = HeaderMap::new();
        for v in ["a", "b", "c"] {
            h.append("x-organization-id", HeaderValue::from_static(v));
        }
        h.insert("x-keep", HeaderValue::from_static("1"));
        remove_where(&mut h, |n| n == "x-organization-id");
        assert!(h.get("x-organization-id").is_none());
        assert_eq!(h.len(), 1);
    }
}
