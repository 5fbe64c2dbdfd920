//! The security headers every answer carries (HSTS, nosniff, frame-deny, a strict CSP,
//! Referrer-Policy): the API answers JSON, and nothing may frame or embed it.
//!
//! They are written by the connection's head writer ([`super::h1`]), once, as one static block,
//! so no answer can leave without them — a handler's answer, the gateway's, a refused head's,
//! a panic's 500 — and a handler's own copies of these names are dropped rather than sent
//! beside ours (two `X-Frame-Options` may be ignored by browsers as invalid). Writing the block
//! instead of inserting five entries into every answer's header map saves the gateway's hot
//! path about 1,400 instructions per request (README, Performance).

use axum::http::{HeaderName, header};

/// The headers, as lines on the wire.
pub(crate) const LINES: &[u8] = b"strict-transport-security: max-age=63072000; includeSubDomains\r\n\
x-content-type-options: nosniff\r\n\
x-frame-options: DENY\r\n\
content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n\
referrer-policy: no-referrer\r\n";

/// Whether `name` is one of the headers in [`LINES`] (another value for it is not sent).
pub(crate) fn is_security_header(name: &HeaderName) -> bool {
    *name == header::STRICT_TRANSPORT_SECURITY
        || *name == header::X_CONTENT_TYPE_OPTIONS
        || *name == header::X_FRAME_OPTIONS
        || *name == header::CONTENT_SECURITY_POLICY
        || *name == header::REFERRER_POLICY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_names_a_security_header_and_each_is_named_once() {
        let text = std::str::from_utf8(LINES).unwrap();
        let names: Vec<&str> =
            text.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(':').next().unwrap()).collect();
        assert_eq!(names.len(), 5);
        for name in &names {
            assert!(is_security_header(&HeaderName::from_bytes(name.as_bytes()).unwrap()), "{name}");
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(!is_security_header(&header::CONTENT_TYPE));
    }
}
