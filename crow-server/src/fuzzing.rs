//! Properties the hand-written wire code keeps for every input: the HTTP/1.1 server's request
//! heads and chunked bodies, the gateway's reading of service answers, and ingest's reading of
//! tracker events.
//!
//! The central one: a message is read the same way however its bytes are split across reads.
//! A parser whose reading depends on the split can be steered into framing one message two
//! ways, which is how requests are smuggled; and one that refuses a valid message arriving in
//! pieces fails clients at random. The others check the fast paths against slow, obvious ones:
//! every header line httparse sees is in the map built from offsets and a name table, and the
//! framing chosen agrees with the headers kept.
//!
//! Each function panics when a property is broken and must not panic otherwise. They are
//! driven by the coverage-guided fuzz targets in `fuzz/` (nightly, `cargo fuzz`) and, on every
//! `cargo test`, by a replay of seeds and deterministic mutations of them (`tests` below).

use std::io;

use axum::http::{HeaderMap, HeaderName, Version, header};
use bytes::BytesMut;
use crow_core::event::{Limits, parse_event_str};

use crate::gateway::upstream::{self, Parsed};
use crate::http::fields::MAX_HEADERS;
use crate::http::framing::{self, Chunk, Decoded, Decoder};
use crate::http::h1::head::{self, Framing, MAX_HEAD};
use crate::http::hop::{self, HOP_BY_HOP};

/// A request head: the same head from any split, complete only at its end, with every line
/// httparse reads in its header map and framing that agrees with its headers.
pub fn request_head(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    let parsed = match head::parse(&mut buf) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return assert!(data.len() <= MAX_HEAD, "an incomplete head past the size limit"),
        Err(_) => return,
    };
    let len = data.len() - buf.len();
    assert!(len <= MAX_HEAD);
    // Nothing after the head changes it, and nothing before its end completes it.
    match head::parse(&mut BytesMut::from(&data[..len])) {
        Ok(Some(alone)) => assert!(same_request(&parsed, &alone), "the bytes after a head changed it"),
        other => panic!("a head read alone was {other:?}"),
    }
    for cut in cuts(len) {
        let early = head::parse(&mut BytesMut::from(&data[..cut]));
        assert!(matches!(early, Ok(None)), "{cut} of a {len}-byte head read as {early:?}");
    }

    let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut slow = httparse::Request::new(&mut lines);
    assert_eq!(slow.parse(&data[..len]).ok(), Some(httparse::Status::Complete(len)));
    let headers = parsed.request.headers();
    assert_eq!(headers.len(), slow.headers.len(), "header lines lost or added");
    for line in slow.headers.iter() {
        assert!(holds(headers, line), "the line {:?} is not in the map", line.name);
    }

    let version = parsed.request.version();
    let codings: Vec<_> = headers.get_all(header::TRANSFER_ENCODING).iter().collect();
    let lengths = framing::content_length(headers.get_all(header::CONTENT_LENGTH).iter().map(|v| v.as_bytes()));
    match parsed.framing {
        Framing::Chunked => {
            assert_eq!(version, Version::HTTP_11);
            assert!(matches!(codings[..], [c] if c.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked")));
            assert!(!headers.contains_key(header::CONTENT_LENGTH));
        }
        Framing::Length(n) => {
            assert!(codings.is_empty() && n > 0 && lengths == Some(n), "length {n} from {headers:?}");
        }
        Framing::Empty => assert!(codings.is_empty() && lengths.unwrap_or(0) == 0, "no body from {headers:?}"),
    }
    if version == Version::HTTP_11 {
        assert_eq!(headers.get_all(header::HOST).iter().count(), 1);
    }
    if parsed.keep_alive {
        assert!(version == Version::HTTP_11 && !head::has_token(headers, header::CONNECTION, "close"));
    }
}

fn same_request(a: &head::Head, b: &head::Head) -> bool {
    let (x, y) = (&a.request, &b.request);
    x.method() == y.method()
        && x.uri() == y.uri()
        && x.version() == y.version()
        && x.headers() == y.headers()
        && (a.framing, a.keep_alive, a.expect_continue) == (b.framing, b.keep_alive, b.expect_continue)
}

/// Whether `headers` holds the line httparse read.
fn holds(headers: &HeaderMap, line: &httparse::Header<'_>) -> bool {
    HeaderName::from_bytes(line.name.as_bytes())
        .is_ok_and(|name| headers.get_all(name).iter().any(|v| v.as_bytes() == line.value))
}

/// A chunked body: the same data and the same ending (complete, with the same bytes left over,
/// or refused for the same reason) whether it arrives at once, in two reads or byte by byte.
pub fn chunked_body(data: &[u8]) {
    let whole = decode_chunked([data]);
    if let Ending::Complete { left } = whole.1 {
        assert!(whole.0.len() + left <= data.len());
    }
    let split = usize::from(data.first().copied().unwrap_or(0)).wrapping_mul(31) % (data.len() + 1);
    assert_eq!(decode_chunked([&data[..split], &data[split..]]), whole, "split at {split}");
    if data.len() <= 2048 {
        assert_eq!(decode_chunked(data.chunks(1)), whole, "byte by byte");
    }
}

/// How a chunked body read by [`decode_chunked`] ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The body ended with this many bytes after it.
    Complete {
        left: usize,
    },
    Refused(io::ErrorKind),
}

/// Decodes a chunked body arriving in `reads`: the data, and how it ended (with the bytes
/// after the body, unread reads included).
pub(crate) fn decode_chunked<'a>(reads: impl IntoIterator<Item = &'a [u8]>) -> (Vec<u8>, Ending) {
    let reads: Vec<&[u8]> = reads.into_iter().collect();
    let mut decoder = Decoder::Chunked(Chunk::Size);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut step = |buf: &mut BytesMut, eof: bool, out: &mut Vec<u8>| loop {
        match decoder.decode(buf, eof) {
            Ok(Decoded::Data(d)) => out.extend_from_slice(&d),
            Ok(Decoded::More) => return None,
            Ok(Decoded::End) => return Some(Ending::Complete { left: buf.len() }),
            Err(e) => return Some(Ending::Refused(e.kind())),
        }
    };
    for (i, read) in reads.iter().enumerate() {
        buf.extend_from_slice(read);
        match step(&mut buf, false, &mut out) {
            // The reads not yet made lie after the body too.
            Some(Ending::Complete { left }) => {
                let unread: usize = reads[i + 1..].iter().map(|r| r.len()).sum();
                return (out, Ending::Complete { left: left + unread });
            }
            Some(refused) => return (out, refused),
            None => {}
        }
    }
    let ending = step(&mut buf, true, &mut out).unwrap_or(Ending::Refused(io::ErrorKind::UnexpectedEof));
    (out, ending)
}

/// A service's answer head: the same answer from any split, complete only at its end, without
/// hop-by-hop headers, headers the connection names or headers the gateway hides, and with
/// every other line kept.
pub fn answer_head(data: &[u8]) {
    let hide: upstream::Strip<'_> = &|name: &HeaderName| name.as_str().starts_with("x-h") || name == header::SET_COOKIE;
    for head_only in [false, true] {
        let mut buf = BytesMut::from(data);
        let parsed = match upstream::parse_head(&mut buf, head_only, hide) {
            Ok(Some(parsed)) => parsed,
            Ok(None) | Err(_) => continue,
        };
        let len = data.len() - buf.len();
        let alone = upstream::parse_head(&mut BytesMut::from(&data[..len]), head_only, hide);
        match (&parsed, alone) {
            (Parsed::Interim, Ok(Some(Parsed::Interim))) => {}
            (Parsed::Final(a, da, ra), Ok(Some(Parsed::Final(b, db, rb)))) => {
                assert!(a.status() == b.status() && a.headers() == b.headers() && (*da, *ra) == (db, rb));
            }
            (_, other) => panic!("an answer head read alone differs: {other:?}"),
        }
        for cut in cuts(len) {
            let early = upstream::parse_head(&mut BytesMut::from(&data[..cut]), head_only, hide);
            assert!(matches!(early, Ok(None)), "{cut} of a {len}-byte answer head read as {early:?}");
        }
        let Parsed::Final(response, decoder, reusable) = parsed else { continue };

        let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut slow = httparse::Response::new(&mut lines);
        assert_eq!(slow.parse(&data[..len]).ok(), Some(httparse::Status::Complete(len)));
        let named: Vec<&[u8]> = slow
            .headers
            .iter()
            .filter(|l| l.name.eq_ignore_ascii_case("connection"))
            .flat_map(|l| l.value.split(|b| *b == b','))
            .map(<[u8]>::trim_ascii)
            .collect();
        let chunked_or_until_close = slow.headers.iter().any(|l| l.name.eq_ignore_ascii_case("transfer-encoding"));
        let headers = response.headers();
        for name in headers.keys() {
            assert!(!HOP_BY_HOP.contains(name) && !hide(name), "{name} passed");
            assert!(!named.iter().any(|n| n.eq_ignore_ascii_case(name.as_str().as_bytes())), "{name} passed");
        }
        for line in slow.headers.iter() {
            let Ok(name) = HeaderName::from_bytes(line.name.as_bytes()) else { continue };
            let dropped = HOP_BY_HOP.contains(&name)
                || hide(&name)
                || named.iter().any(|n| n.eq_ignore_ascii_case(name.as_str().as_bytes()))
                || (chunked_or_until_close && name == header::CONTENT_LENGTH);
            assert!(dropped || holds(headers, line), "the line {name} was lost");
        }
        if head_only {
            assert_eq!(decoder, Decoder::Length(0));
        }
        if reusable {
            assert!(decoder != Decoder::UntilClose && slow.version == Some(1));
            assert!(!hop::lists(&named.join(&b","[..]), b"close"));
        }
    }
}

/// A tracker event: one ingest accepts is stored as JSON that reads back as the same event and
/// is accepted again, so what was acknowledged can always be read by the interaction service.
pub fn tracker_event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let Ok(event) = parse_event_str(text, &limits) else { return };
    let stored = serde_json::to_string(&event).unwrap_or_else(|e| panic!("an accepted event does not encode: {e}"));
    match parse_event_str(&stored, &limits) {
        Ok(again) => assert_eq!(again, event, "an accepted event changed when stored: {stored}"),
        Err(e) => panic!("an accepted event, stored as {stored}, is refused: {e}"),
    }
}

/// Where to cut a message of `len` bytes to check it is incomplete there: everywhere in a
/// short one, about 200 places in a long one.
fn cuts(len: usize) -> impl Iterator<Item = usize> {
    (0..len).step_by((len / 200).max(1))
}

#[cfg(test)]
mod tests {
    //! Seeds and a few thousand deterministic mutations of them through each property: a
    //! stable stand-in for the fuzz targets on every `cargo test`, which also keeps what the
    //! fuzzer once found (added to the seeds) fixed.

    use super::*;

    const HEADS: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /api/v1/ingest/events?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-API-Key: crow_pk_x\r\n\r\nhello",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\nX-Organization-Id: o\r\nx-organization-id: p\r\n\r\n",
        b"PUT /x HTTP/1.1\r\nhost: a\r\ncontent-length: 3, 3\r\nconnection: close\r\n\r\nabc",
        b"GET http://a/x HTTP/1.1\nHost: a\nCookie: s=1\nAuthorization: Bearer x.y.z\n\n",
    ];
    const ANSWERS: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: x-drop, close\r\nx-drop: 1\r\nSet-Cookie: a=b\r\nx-hidden: 1\r\nContent-Length: 4\r\n\r\n",
        b"HTTP/1.0 500 Oops\r\ncontent-length: 2\r\nKeep-Alive: timeout=5\r\nVary: Origin\r\n\r\nno",
    ];
    const BODIES: &[&[u8]] = &[
        b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\ntrailer: x\r\n\r\n",
        b"0\r\n\r\n",
        b"a\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
        b"F \r\n0123456789abcde\r\n0\r\n\r\n",
    ];
    const EVENTS: &[&[u8]] = &[
        br#"{"type":"page_view","id":"0190a5d2-7c3e-7def-8123-456789abcdef","ts":1732300000000,"sessionId":"s1","url":"https://shop.example/","referrer":"https://a.example/","title":"Shop"}"#,
        br#"{"type":"click","id":"0190a5d2-7c3e-7def-8123-456789abcde0","ts":1732300000001,"sessionId":"s1","url":"https://shop.example/p/1","path":"main>a#buy","text":"Buy \u00e9 \ud83d\ude00","product":{"externalId":"p1","sku":"S-1","name":"Mug"}}"#,
        br#"{"type":"purchase","id":"0190a5d2-7c3e-7def-8123-456789abcde1","ts":-1,"sessionId":"s1","url":"u","orderId":"o-1","items":[{"product":{"externalId":"p1"},"quantity":2,"price":9.99}],"value":19.98,"currency":"EUR"}"#,
        br#"{"type":"custom","id":"0190a5d2-7c3e-7def-8123-456789abcde2","ts":0,"sessionId":"s","url":"u","name":"n","props":{"a":4.5e300,"b":"x","c":true,"d":null,"e":-0.0}}"#,
        br#"{"type":"web_vital","id":"0190a5d2-7c3e-7def-8123-456789abcde3","ts":5,"sessionId":"s","url":"u","name":"CLS","value":0.1,"organizationId":"o"}"#,
    ];
    /// Pieces that turn one framing into another when spliced in.
    const TOKENS: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"\t",
        b",",
        b";",
        b":",
        b"0",
        b"f",
        b"chunked",
        b"close",
        b"Host: a\r\n",
        b"Content-Length: 7\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Connection: close\r\n",
        b"HTTP/1.0",
        b"\r\n\r\n",
    ];

    /// xorshift64: the same mutations on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % n.max(1) as u64).unwrap_or(0)
        }
    }

    fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(v.len() + 1);
            match rng.below(4) {
                0 if at < v.len() => v[at] = u8::try_from(rng.below(256)).unwrap_or(0),
                1 => {
                    let token = TOKENS[rng.below(TOKENS.len())];
                    v.splice(at..at, token.iter().copied());
                }
                2 => {
                    let end = (at + rng.below(8)).min(v.len());
                    v.drain(at..end);
                }
                _ => {
                    let end = (at + rng.below(24)).min(v.len());
                    let copy = v[at..end].to_vec();
                    v.splice(at..at, copy);
                }
            }
        }
        v
    }

    fn replay(seeds: &[&[u8]], property: fn(&[u8])) {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for seed in seeds {
            property(seed);
            for _ in 0..300 {
                property(&mutate(seed, &mut rng));
            }
        }
    }

    #[test]
    fn request_heads_keep_their_properties() {
        // The seeds are valid, so the properties about accepted heads are exercised.
        assert!(HEADS.iter().all(|h| matches!(head::parse(&mut BytesMut::from(*h)), Ok(Some(_)))));
        replay(HEADS, request_head);
    }

    #[test]
    fn answer_heads_keep_their_properties() {
        let hide: upstream::Strip<'_> = &|_| false;
        assert!(
            ANSWERS.iter().all(|a| matches!(upstream::parse_head(&mut BytesMut::from(*a), false, hide), Ok(Some(_))))
        );
        replay(ANSWERS, answer_head);
    }

    #[test]
    fn chunked_bodies_keep_their_properties() {
        assert!(BODIES.iter().all(|b| matches!(decode_chunked([*b]).1, Ending::Complete { .. })));
        replay(BODIES, chunked_body);
    }

    #[test]
    fn tracker_events_keep_their_properties() {
        let limits = Limits::default();
        for event in EVENTS {
            let text = std::str::from_utf8(event).unwrap_or_default();
            assert!(parse_event_str(text, &limits).is_ok(), "{text}: {:?}", parse_event_str(text, &limits));
        }
        replay(EVENTS, tracker_event);
    }

    #[test]
    fn a_chunk_line_at_the_length_limit_is_read_however_it_is_split() {
        let mut body = b"5;".to_vec();
        body.resize(4096, b'x');
        body.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        let whole = decode_chunked([&body[..]]);
        assert_eq!(whole, (b"hello".to_vec(), Ending::Complete { left: 0 }));
        // The second read starts between the line's CR and LF.
        assert_eq!(decode_chunked([&body[..4097], &body[4097..]]), whole);
    }
}
