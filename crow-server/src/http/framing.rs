//! HTTP/1.1 message bodies on the wire (RFC 9112 §6–7): where a body ends and how chunked
//! bodies decode. A state machine without I/O, shared by the server that reads clients'
//! request bodies (`http::h1`) and the gateway's client that reads services' answers
//! (`gateway::upstream`), so both sides frame messages by the same, tested rules.

use std::io;

use bytes::{Buf as _, Bytes, BytesMut};

/// What a [`Decoder`] made of the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Data(Bytes),
    /// Nothing usable yet; read more.
    More,
    /// The body is complete.
    End,
}

/// Where a body ends (RFC 9112 §6.3) and, for chunked bodies, where in a chunk we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// This many bytes remain.
    Length(u64),
    Chunked(Chunk),
    /// The body ends when the sender closes the connection (answers only; a request without a
    /// length has no body).
    UntilClose,
    Done,
}

/// Where in a chunked body the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data: this many bytes remain.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

/// The value of `Content-Length` headers: digits only (no sign, no spaces inside), and every
/// copy and list element the same number (RFC 9112 §6.3: anything else is unrecoverable, since
/// two parties reading different lengths is how requests are smuggled). `None` when invalid.
pub fn content_length<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<u64> {
    let mut length = None;
    for value in values {
        for n in value.split(|b| *b == b',') {
            let n = n.trim_ascii();
            if n.is_empty() || n.len() > 19 || !n.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n = n.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            if length.is_some_and(|l| l != n) {
                return None;
            }
            length = Some(n);
        }
    }
    length
}

/// Bytes asked of a socket per read.
pub const READ_CHUNK: usize = 16 * 1024;
/// Below this much free room a read buffer is grown before reading.
const MIN_ROOM: usize = 2 * 1024;

/// Makes room to read into `buf`. Only when little is left: a head parsed off the front is
/// shared with the request or answer built from it, so reserving a full chunk before every
/// read would allocate a fresh buffer per message; this way one allocation serves many
/// messages and is reclaimed once they are dropped.
pub fn make_room(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < MIN_ROOM {
        buf.reserve(READ_CHUNK);
    }
}

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

impl Decoder {
    /// The whole body, when it is already in `buf` (or empty); `None` when more is to be read.
    pub fn take_buffered(&mut self, buf: &mut BytesMut) -> Option<Bytes> {
        match *self {
            Self::Length(n) if (buf.len() as u64) >= n => {
                *self = Self::Done;
                Some(buf.split_to(usize::try_from(n).ok()?).freeze())
            }
            _ => None,
        }
    }

    /// Takes what it can from the front of `buf`; `eof` says the connection has ended.
    pub fn decode(&mut self, buf: &mut BytesMut, eof: bool) -> io::Result<Decoded> {
        loop {
            match *self {
                Self::Done => return Ok(Decoded::End),
                Self::Length(0) => {
                    *self = Self::Done;
                }
                Self::Length(n) => {
                    let (data, left) = take_data(buf, n, eof)?;
                    *self = Self::Length(left);
                    return Ok(data);
                }
                Self::UntilClose => {
                    if !buf.is_empty() {
                        return Ok(Decoded::Data(buf.split().freeze()));
                    }
                    if eof {
                        *self = Self::Done;
                    } else {
                        return Ok(Decoded::More);
                    }
                }
                Self::Chunked(Chunk::Data(n)) => {
                    let (data, left) = take_data(buf, n, eof)?;
                    *self = Self::Chunked(if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) });
                    return Ok(data);
                }
                Self::Chunked(Chunk::DataEnd) => {
                    if buf.len() < 2 {
                        return need_more(eof);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(bad_chunk("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    *self = Self::Chunked(Chunk::Size);
                }
                Self::Chunked(state @ (Chunk::Size | Chunk::Trailers)) => {
                    let Some(line) = take_line(buf)? else {
                        return need_more(eof);
                    };
                    *self = match state {
                        Chunk::Size => match chunk_size(&line)? {
                            0 => Self::Chunked(Chunk::Trailers),
                            n => Self::Chunked(Chunk::Data(n)),
                        },
                        // Trailers are read and dropped; an empty line ends the message.
                        _ if line.is_empty() => Self::Done,
                        _ => Self::Chunked(Chunk::Trailers),
                    };
                }
            }
        }
    }

    pub fn remaining(&self) -> Option<u64> {
        match *self {
            Self::Length(n) => Some(n),
            Self::Done => Some(0),
            _ => None,
        }
    }
}

/// Up to `n` body bytes off the front of `buf`, and how many of the `n` remain after them.
fn take_data(buf: &mut BytesMut, n: u64, eof: bool) -> io::Result<(Decoded, u64)> {
    if buf.is_empty() {
        return need_more(eof).map(|more| (more, n));
    }
    let take = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
    Ok((Decoded::Data(buf.split_to(take).freeze()), n - take as u64))
}

/// Waiting for bytes that are still to come is fine; once the connection has ended, the
/// message was cut short.
fn need_more(eof: bool) -> io::Result<Decoded> {
    if eof { Err(cut_short()) } else { Ok(Decoded::More) }
}

/// One CRLF-terminated line off the front of `buf`, without its CRLF.
fn take_line(buf: &mut BytesMut) -> io::Result<Option<BytesMut>> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(end) if end <= MAX_LINE => {
            let line = buf.split_to(end);
            buf.advance(2);
            Ok(Some(line))
        }
        Some(_) => Err(bad_chunk("line too long")),
        // A CR at the end may begin the CRLF: it is not counted, or a line at the limit would
        // be refused when a read happens to end between its CR and LF (found by the split
        // property in `fuzzing.rs`).
        None if buf.len() - usize::from(buf.last() == Some(&b'\r')) > MAX_LINE => Err(bad_chunk("line too long")),
        None => Ok(None),
    }
}

/// A chunk-size line: hex digits, then optional extensions after `;` (ignored).
fn chunk_size(line: &[u8]) -> io::Result<u64> {
    let digits = line.split(|b| *b == b';').next().unwrap_or_default();
    let digits = digits.trim_ascii_end();
    if digits.is_empty() || digits.len() > 15 {
        return Err(bad_chunk("bad chunk size"));
    }
    digits.iter().try_fold(0u64, |n, b| {
        let digit = char::from(*b).to_digit(16).ok_or_else(|| bad_chunk("bad chunk size"))?;
        Ok(n * 16 + u64::from(digit))
    })
}

fn bad_chunk(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed inside the body")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::{Ending, decode_chunked};

    fn decode_all(decoder: &mut Decoder, input: &[u8], eof: bool) -> io::Result<(Vec<u8>, bool)> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match decoder.decode(&mut buf, eof)? {
                Decoded::Data(d) => out.extend_from_slice(&d),
                Decoded::More => return Ok((out, false)),
                Decoded::End => return Ok((out, true)),
            }
        }
    }

    #[test]
    fn chunked_bodies_decode_across_any_split_and_drop_extensions_and_trailers() {
        let wire = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\ntrailer: x\r\n\r\n";
        for split in 0..wire.len() {
            let read = decode_chunked([&wire[..split], &wire[split..]]);
            assert_eq!(read, (b"hello, world".to_vec(), Ending::Complete { left: 0 }), "split at {split}");
        }
    }

    #[test]
    fn malformed_or_truncated_chunked_bodies_are_errors() {
        for bad in [&b"zz\r\n"[..], b"5\r\nhelloXX", b"1234567890abcdef0\r\n", b"\r\n"] {
            let mut decoder = Decoder::Chunked(Chunk::Size);
            assert!(decode_all(&mut decoder, bad, false).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let mut decoder = Decoder::Chunked(Chunk::Size);
        let err = decode_all(&mut decoder, b"5\r\nhel", true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut long = vec![b'1'; MAX_LINE + 10];
        long.extend_from_slice(b"\r\n");
        assert!(decode_all(&mut Decoder::Chunked(Chunk::Size), &long, false).is_err());
    }

    #[test]
    fn length_and_close_delimited_bodies() {
        let mut decoder = Decoder::Length(5);
        assert_eq!(decode_all(&mut decoder, b"hel", false).unwrap(), (b"hel".to_vec(), false));
        assert_eq!(decode_all(&mut decoder, b"lo", false).unwrap(), (b"lo".to_vec(), true));
        assert_eq!(decoder.remaining(), Some(0));
        assert!(decode_all(&mut Decoder::Length(5), b"hel", true).is_err(), "closed early");
        let mut decoder = Decoder::UntilClose;
        assert_eq!(decode_all(&mut decoder, b"abc", false).unwrap(), (b"abc".to_vec(), false));
        assert_eq!(decode_all(&mut decoder, b"", true).unwrap(), (vec![], true));
    }

    #[test]
    fn content_lengths_are_digits_and_agree() {
        let one = |v: &'static [u8]| content_length([v]);
        assert_eq!(one(b"42"), Some(42));
        assert_eq!(one(b" 7 "), Some(7));
        assert_eq!(one(b"3, 3"), Some(3));
        assert_eq!(content_length([&b"5"[..], b"5"]), Some(5));
        for bad in [&b"+5"[..], b"-1", b"", b"1 2", b"0x10", b"3, 4", b"99999999999999999999", b"5,"] {
            assert_eq!(one(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(content_length([&b"5"[..], b"6"]), None);
        assert_eq!(content_length(std::iter::empty()), None);
    }
}
