//! Writing an HTTP/1.1 message after its start line: header lines and the body, encoded as
//! declared. One writer serves both directions — the server's answers to clients
//! ([`crate::http::h1`]) and the gateway's requests to services (`gateway::upstream`) — so both
//! encode chunks, gather small writes and check declared lengths the same way.

use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::Poll;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use http_body::{Body as _, Frame};
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

/// Bytes gathered before a write.
pub const WRITE_CHUNK: usize = 64 * 1024;

/// Appends `name: value` lines for every header except those `except` selects (headers the
/// writer of the message sets itself).
pub fn header_lines(out: &mut Vec<u8>, headers: &HeaderMap, except: impl Fn(&HeaderName) -> bool) {
    for (name, value) in headers {
        if !except(name) {
            header_line(out, name, value);
        }
    }
}

/// Appends one `name: value` line. Always inlined: it is the body of the hot loop above, and
/// as a call of its own it cost the gateway about 50 instructions per proxied request.
#[inline(always)]
pub fn header_line(out: &mut Vec<u8>, name: &HeaderName, value: &HeaderValue) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends a `content-length` line (without `core::fmt`, which costs more than the rest of
/// the head's framing).
pub fn content_length_line(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(b"content-length: ");
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

/// How a body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Exactly this many bytes, as declared by `Content-Length`.
    Length(u64),
    Chunked,
    /// Raw bytes until the connection closes.
    Raw,
}

/// How writing a body ended, when the connection itself did not fail.
#[derive(Debug)]
pub enum Ended {
    Complete,
    /// The body failed; the message is cut short.
    Failed(axum::Error),
    /// The body yielded more or fewer bytes than its declared length.
    WrongLength,
}

/// What polling a body gave.
enum Step {
    Frame(Option<Result<Frame<Bytes>, axum::Error>>),
    /// The body has nothing yet; write out what is gathered while it waits.
    Flush,
}

/// Writes what `out` already holds (the message's head), then `body` in `encoding`. Small
/// bodies leave in the head's write; a body that has nothing ready yet has what is gathered
/// written first, so a streamed message is never held back waiting for more. What was gathered
/// is written even when the body fails, and the chunked terminator only when it completes.
pub async fn write_body(
    io: &mut (impl AsyncWrite + Unpin),
    out: &mut Vec<u8>,
    mut body: Body,
    encoding: Encoding,
) -> io::Result<Ended> {
    let mut written: u64 = 0;
    let ended = loop {
        let step = std::future::poll_fn(|cx| match Pin::new(&mut body).poll_frame(cx) {
            Poll::Pending if out.is_empty() => Poll::Pending,
            Poll::Pending => Poll::Ready(Step::Flush),
            Poll::Ready(frame) => Poll::Ready(Step::Frame(frame)),
        })
        .await;
        let data = match step {
            Step::Flush => {
                io.write_all(out).await?;
                out.clear();
                continue;
            }
            Step::Frame(None) => break Ended::Complete,
            Step::Frame(Some(Err(e))) => break Ended::Failed(e),
            Step::Frame(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers are not sent
            },
        };
        if data.is_empty() {
            continue;
        }
        written += data.len() as u64;
        match encoding {
            Encoding::Length(n) if written > n => break Ended::WrongLength,
            Encoding::Chunked => {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{:x}\r\n", data.len());
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\r\n");
            }
            _ => out.extend_from_slice(&data),
        }
        if out.len() >= WRITE_CHUNK {
            io.write_all(out).await?;
            out.clear();
        }
    };
    let ended = match (ended, encoding) {
        (Ended::Complete, Encoding::Length(n)) if written != n => Ended::WrongLength,
        (ended, _) => ended,
    };
    if matches!(ended, Ended::Complete) && encoding == Encoding::Chunked {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    io.write_all(out).await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    #[test]
    fn content_length_lines_are_decimal() {
        for n in [0, 7, 10, 1234, u64::MAX] {
            let mut out = Vec::new();
            content_length_line(&mut out, n);
            assert_eq!(out, format!("content-length: {n}\r\n").into_bytes());
        }
    }

    async fn written(body: Body, encoding: Encoding) -> (String, Ended) {
        let mut wire = Vec::new();
        let mut out = b"HEAD\r\n\r\n".to_vec();
        let ended = write_body(&mut wire, &mut out, body, encoding).await.unwrap();
        (String::from_utf8(wire).unwrap(), ended)
    }

    #[tokio::test]
    async fn bodies_are_encoded_as_declared_and_lengths_checked() {
        let (wire, ended) = written(Body::from("hello"), Encoding::Length(5)).await;
        assert_eq!((wire.as_str(), matches!(ended, Ended::Complete)), ("HEAD\r\n\r\nhello", true));
        let (wire, ended) = written(Body::from("hello"), Encoding::Chunked).await;
        assert_eq!((wire.as_str(), matches!(ended, Ended::Complete)), ("HEAD\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true));
        // Chunk sizes are lowercase hex.
        for (len, line) in [(10, "a\r\n"), (255, "ff\r\n"), (65536, "10000\r\n")] {
            let (wire, _) = written(Body::from(vec![b'x'; len]), Encoding::Chunked).await;
            assert!(wire.starts_with(&format!("HEAD\r\n\r\n{line}")), "{len}");
        }
        let (wire, _) = written(Body::from("hello"), Encoding::Raw).await;
        assert_eq!(wire, "HEAD\r\n\r\nhello");
        for declared in [4, 6] {
            let (_, ended) = written(Body::from("hello"), Encoding::Length(declared)).await;
            assert!(matches!(ended, Ended::WrongLength), "declared {declared}");
        }
    }

    #[tokio::test]
    async fn a_failing_body_ends_a_chunked_message_without_its_terminator() {
        let pieces = futures_util::stream::iter([Ok(Bytes::from_static(b"ab")), Err(io::Error::other("broken"))]);
        let (wire, ended) = written(Body::from_stream(pieces), Encoding::Chunked).await;
        assert!(matches!(ended, Ended::Failed(_)));
        assert_eq!(wire, "HEAD\r\n\r\n2\r\nab\r\n");
    }

    #[test]
    fn header_lines_skip_what_the_writer_sets_itself() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("evil"));
        headers.insert("x-a", HeaderValue::from_static("b"));
        let mut out = Vec::new();
        header_lines(&mut out, &headers, |name| name == header::HOST);
        assert_eq!(out, b"x-a: b\r\n");
    }
}
