//! Answer heads on the wire: how the body is delimited (RFC 9112 §6.3), the status line, the
//! headers, and the `Date` and security headers every answer carries. Pure, so the framing
//! rules are unit-tested.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderName, StatusCode, header, response};

use crate::http::outgoing::{self, Encoding};
use crate::http::security;

/// What the head declares about the body, and how the body is written after it (`None`: no
/// body bytes at all — an answer to HEAD, 1xx, 204, 304).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub declare: Declare,
    pub write: Option<Encoding>,
}

/// The framing header of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declare {
    Nothing,
    Length(u64),
    Chunked,
}

/// How an answer with `status` and a body of `exact` bytes (when known) is framed, for a
/// request that was `HEAD` or not, from an HTTP/1.1 client or not.
pub fn plan(status: StatusCode, head_request: bool, exact: Option<u64>, http11: bool) -> Plan {
    if status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Plan { declare: Declare::Nothing, write: None };
    }
    match (exact, head_request, http11) {
        (Some(n), true, _) => Plan { declare: Declare::Length(n), write: None },
        (None, true, _) => Plan { declare: Declare::Nothing, write: None },
        (Some(n), false, _) => Plan { declare: Declare::Length(n), write: Some(Encoding::Length(n)) },
        (None, false, true) => Plan { declare: Declare::Chunked, write: Some(Encoding::Chunked) },
        // HTTP/1.0 clients, length unknown: raw bytes until the connection closes.
        (None, false, false) => Plan { declare: Declare::Nothing, write: Some(Encoding::Raw) },
    }
}

/// Headers the connection writes itself: framing and connection management belong to this
/// hop, whatever a handler or a service set, and the security headers are every answer's.
fn is_own(name: &HeaderName) -> bool {
    *name == header::CONTENT_LENGTH
        || *name == header::TRANSFER_ENCODING
        || *name == header::CONNECTION
        || security::is_security_header(name)
}

/// Writes the status line and headers of an answer into `out`, the security headers included.
pub fn encode_head(out: &mut Vec<u8>, parts: &response::Parts, declare: Declare, close: bool) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(parts.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    outgoing::header_lines(out, &parts.headers, is_own);
    out.extend_from_slice(security::LINES);
    if !parts.headers.contains_key(header::DATE) {
        out.extend_from_slice(b"date: ");
        date(out);
        out.extend_from_slice(b"\r\n");
    }
    match declare {
        Declare::Nothing => {}
        Declare::Length(n) => outgoing::content_length_line(out, n),
        Declare::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

thread_local! {
    /// The current second and its IMF-fixdate, formatted once per second per thread.
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// Appends the current time as an HTTP date.
fn date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            *cached = second;
            *text = httpdate::fmt_http_date(now);
        }
        out.extend_from_slice(text.as_bytes());
    });
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn framing_by_status_method_length_and_version() {
        let p = |status: u16, head, exact, http11| plan(StatusCode::from_u16(status).unwrap(), head, exact, http11);
        assert_eq!(
            p(200, false, Some(5), true),
            Plan { declare: Declare::Length(5), write: Some(Encoding::Length(5)) }
        );
        assert_eq!(p(200, false, None, true), Plan { declare: Declare::Chunked, write: Some(Encoding::Chunked) });
        assert_eq!(p(200, false, None, false), Plan { declare: Declare::Nothing, write: Some(Encoding::Raw) });
        assert_eq!(p(200, true, Some(5), true), Plan { declare: Declare::Length(5), write: None });
        for status in [204, 304] {
            assert_eq!(p(status, false, Some(5), true), Plan { declare: Declare::Nothing, write: None });
        }
    }

    #[test]
    fn heads_carry_our_framing_not_the_handlers() {
        let mut response = axum::response::Response::new(());
        *response.status_mut() = StatusCode::NOT_FOUND;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        // A handler's own security headers give way to the ones every answer carries.
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("ALLOWALL"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src *"));
        let (parts, ()) = response.into_parts();
        let mut out = Vec::new();
        encode_head(&mut out, &parts, Declare::Length(12), true);
        let text = String::from_utf8(out).unwrap();
        let security = std::str::from_utf8(security::LINES).unwrap();
        let expected = format!("HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n{security}date: ");
        assert!(text.starts_with(&expected), "{text}");
        assert!(text.ends_with(" GMT\r\ncontent-length: 12\r\nconnection: close\r\n\r\n"), "{text}");
        for handlers in ["999", "gzip", "upgrade", "ALLOWALL", "default-src *"] {
            assert!(!text.contains(handlers), "{handlers} in {text}");
        }
        assert_eq!(text.matches("x-frame-options").count(), 1, "{text}");
    }
}
