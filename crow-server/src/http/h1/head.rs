//! Request heads: httparse reads the syntax; this module makes the decisions RFC 9112 leaves to
//! a server, and is strict wherever two parties could read one message differently — the root
//! of request smuggling. A head that could be framed two ways is refused, never guessed at:
//!
//! - `Transfer-Encoding` is accepted only as exactly `chunked`, only from HTTP/1.1 clients and
//!   never together with `Content-Length` (RFC 9112 §6.1 lets a server refuse that pair);
//! - `Content-Length` must be digits, and every copy must agree;
//! - HTTP/1.1 requests must carry exactly one `Host` (§3.2);
//! - httparse already refuses obsolete line folding and whitespace before a header's colon.
//!
//! Pure: bytes in, an [`http::Request`] head and its framing out, so every rule is unit-tested.

use std::mem::MaybeUninit;

use axum::http::{HeaderMap, HeaderName, Method, Request, Uri, Version, header};
use bytes::BytesMut;

use crate::http::fields::{self, MAX_HEADERS, Malformed};
use crate::http::{framing, hop};

/// Largest request head (request line and headers) read.
pub const MAX_HEAD: usize = 64 * 1024;
/// Room left in each request's header map for what the gateway adds, so it never regrows.
const SPARE_HEADERS: usize = 8;

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    Length(u64),
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    pub request: Request<()>,
    pub framing: Framing,
    /// Whether the client lets the connection carry another request after this one.
    pub keep_alive: bool,
    /// The client waits for `100 Continue` before sending the body.
    pub expect_continue: bool,
}

/// Why a head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Longer than [`MAX_HEAD`] or more than the header limit: 431.
    #[error("the request head is too large")]
    TooLarge,
    /// Malformed or ambiguous: 400.
    #[error("{0}")]
    Bad(&'static str),
}

impl From<Malformed> for HeadError {
    fn from(Malformed(why): Malformed) -> Self {
        Self::Bad(why)
    }
}

/// Parses one request head off the front of `buf`; `None` while it is incomplete. The head's
/// bytes are shared by the request's URI and header values, not copied.
pub fn parse(buf: &mut BytesMut) -> Result<Option<Head>, HeadError> {
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(httparse::Error::Version) => return Err(HeadError::Bad("unsupported HTTP version")),
        Err(_) => return Err(HeadError::Bad("malformed request head")),
    };
    if len > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let version = match parsed.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| HeadError::Bad("malformed method"))?;
    // Offsets into the head, so the URI and values can share its bytes once it is frozen.
    let base = buf.as_ptr() as usize;
    let offset = |s: &str| s.as_ptr() as usize - base;
    let path = parsed.path.unwrap_or_default();
    let path_at = offset(path)..offset(path) + path.len();
    let lines = fields::located(buf, parsed.headers);
    let head = buf.split_to(len).freeze();

    let uri = Uri::from_maybe_shared(head.slice(path_at)).map_err(|_| HeadError::Bad("malformed request target"))?;
    let mut facts = Facts::default();
    let headers = lines.build(&head, SPARE_HEADERS, |name, value| {
        facts.note(name, value);
        Ok::<_, HeadError>(true)
    })?;

    let framing = facts.framing(version)?;
    if version == Version::HTTP_11 && facts.hosts != 1 {
        return Err(HeadError::Bad("HTTP/1.1 requests need exactly one Host header"));
    }
    // HTTP/1.1 connections persist unless the client says `close`; HTTP/1.0 ones are closed
    // after each answer (its keep-alive extension is not offered).
    let keep_alive = version == Version::HTTP_11 && !facts.close;
    let expect_continue = version == Version::HTTP_11 && framing != Framing::Empty && facts.expect_continue;

    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some(Head { request, framing, keep_alive, expect_continue }))
}

/// What the framing and connection rules need from a head's headers, noted in the pass that
/// builds the header map rather than looked up by name afterwards.
#[derive(Debug, Default)]
struct Facts {
    /// `Transfer-Encoding` headers seen, and whether the last one was exactly `chunked`.
    codings: usize,
    chunked: bool,
    /// `Content-Length` headers seen, the length they agree on, and whether any was invalid
    /// or disagreed.
    lengths: usize,
    length: Option<u64>,
    bad_length: bool,
    hosts: usize,
    /// `Connection: close`.
    close: bool,
    /// `Expect: 100-continue`.
    expect_continue: bool,
}

impl Facts {
    fn note(&mut self, name: &HeaderName, value: &[u8]) {
        if *name == header::TRANSFER_ENCODING {
            self.codings += 1;
            self.chunked = value.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if *name == header::CONTENT_LENGTH {
            self.lengths += 1;
            match framing::content_length([value]) {
                Some(n) if self.length.is_none_or(|l| l == n) => self.length = Some(n),
                _ => self.bad_length = true,
            }
        } else if *name == header::HOST {
            self.hosts += 1;
        } else if *name == header::CONNECTION {
            self.close |= hop::lists(value, b"close");
        } else if *name == header::EXPECT {
            self.expect_continue = value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
        }
    }

    /// Where the body ends (RFC 9112 §6.3), refusing every ambiguous combination.
    fn framing(&self, version: Version) -> Result<Framing, HeadError> {
        if self.codings > 0 {
            if version != Version::HTTP_11 {
                return Err(HeadError::Bad("Transfer-Encoding needs HTTP/1.1"));
            }
            if self.lengths > 0 {
                return Err(HeadError::Bad("Transfer-Encoding and Content-Length together"));
            }
            if self.codings > 1 || !self.chunked {
                return Err(HeadError::Bad("the only transfer coding accepted is chunked"));
            }
            return Ok(Framing::Chunked);
        }
        match (self.lengths, self.bad_length, self.length) {
            (0, ..) => Ok(Framing::Empty),
            (_, true, _) | (_, _, None) => Err(HeadError::Bad("invalid or conflicting Content-Length")),
            (_, false, Some(0)) => Ok(Framing::Empty),
            (_, false, Some(n)) => Ok(Framing::Length(n)),
        }
    }
}

/// Whether a comma-separated header lists `token` (any case).
pub fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| hop::lists(v.as_bytes(), token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(wire: &[u8]) -> Result<Option<Head>, HeadError> {
        parse(&mut BytesMut::from(wire))
    }

    fn ok(wire: &str) -> Head {
        parse_all(wire.as_bytes()).unwrap().unwrap()
    }

    fn refused(wire: &str) -> HeadError {
        parse_all(wire.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_head_becomes_a_request_sharing_its_bytes_and_leaves_the_body_in_the_buffer() {
        let mut buf =
            BytesMut::from(&b"POST /api/v1/x?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"[..]);
        let head = parse(&mut buf).unwrap().unwrap();
        assert_eq!(head.request.method(), Method::POST);
        assert_eq!(head.request.uri().path(), "/api/v1/x");
        assert_eq!(head.request.uri().query(), Some("q=1"));
        assert_eq!(head.request.headers()["x-a"], "b");
        assert_eq!((head.framing, head.keep_alive, head.expect_continue), (Framing::Length(5), true, false));
        assert_eq!(&buf[..], b"hello");
    }

    #[test]
    fn incomplete_heads_wait_and_oversized_ones_are_refused() {
        assert!(parse_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
        let mut huge = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse_all(&huge).unwrap_err(), HeadError::TooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(refused(&format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n")), HeadError::TooLarge);
    }

    #[test]
    fn framing_is_refused_whenever_it_could_be_read_two_ways() {
        for wire in [
            // The classic CL.TE / TE.CL smuggling pair.
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
            // Codings we cannot decode, obfuscated chunked, chunked twice.
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            // Lengths that disagree or are not plain digits.
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 5\r\n\r\n",
            // Syntax httparse refuses: whitespace before the colon, line folding, bare LF in a value.
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n",
            // Host missing or doubled.
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert!(matches!(refused(wire), HeadError::Bad(_)), "{wire:?}");
        }
    }

    #[test]
    fn accepted_framings() {
        let head = ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert_eq!(head.framing, Framing::Chunked);
        assert_eq!(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").framing, Framing::Empty);
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n").framing,
            Framing::Length(3)
        );
        assert_eq!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n").framing, Framing::Empty);
        let head = ok("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
        assert!(head.expect_continue);
        assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n").expect_continue, "no body");
    }

    /// Mutated and truncated heads — bytes flipped, inserted, deleted, cut — never panic, and a
    /// head that parses always has one consistent framing.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let seeds: [&[u8]; 3] = [
            b"POST /api/v1/x?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
            b"GET http://a/b HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
        ];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"\r\n :,;\t\x00\x7f\xffaZ09-_/?HTTPchunked";
        for round in 0..20_000 {
            let mut wire = seeds[round % seeds.len()].to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % (wire.len() + 1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 4 {
                    0 if at < wire.len() => wire[at] = byte,
                    1 => wire.insert(at, byte),
                    2 if at < wire.len() => {
                        wire.remove(at);
                    }
                    _ => wire.truncate(at),
                }
            }
            if let Ok(Some(head)) = parse_all(&wire) {
                let chunked = head.request.headers().contains_key(header::TRANSFER_ENCODING);
                let length = head.request.headers().contains_key(header::CONTENT_LENGTH);
                assert!(!(chunked && length), "both framings accepted: {:?}", String::from_utf8_lossy(&wire));
                assert_eq!(head.framing == Framing::Chunked, chunked, "{:?}", String::from_utf8_lossy(&wire));
            }
        }
    }

    #[test]
    fn connections_persist_for_http_11_unless_closed() {
        assert!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert_eq!(ok("GET / HTTP/1.0\r\n\r\n").request.version(), Version::HTTP_10);
        assert_eq!(ok("GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n").request.uri().path(), "/x");
    }
}
