//! Request bodies that are still arriving: the connection reads them ([`pump`]) while the
//! handler consumes them ([`Incoming`]), with a small channel between the two so a slow handler
//! slows the reading down instead of the body piling up in memory.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::sync::mpsc;

use crate::http::framing::{self, Decoded, Decoder};

/// Body chunks in flight between the connection and the handler.
const IN_FLIGHT: usize = 2;

/// The handler's end of a body being read.
#[derive(Debug)]
pub struct Incoming {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    /// Bytes still to come, when the client declared a length.
    remaining: Option<u64>,
}

/// The connection's end of a body being read.
#[derive(Debug)]
pub struct Feed {
    chunks: mpsc::Sender<io::Result<Bytes>>,
}

impl Feed {
    /// A way to learn later whether the handler dropped the body, without keeping it open.
    pub fn watch(&self) -> Watch {
        Watch(self.chunks.downgrade())
    }
}

/// Tells whether a handler dropped its body before the end.
#[derive(Debug)]
pub struct Watch(mpsc::WeakSender<io::Result<Bytes>>);

impl Watch {
    /// The handler dropped the body while the connection was still feeding it: the rest will
    /// never be read.
    pub fn abandoned(&self) -> bool {
        self.0.upgrade().is_some_and(|feed| feed.is_closed())
    }
}

/// A body of `length` bytes (unknown for chunked bodies) that the connection will feed.
pub fn channel(length: Option<u64>) -> (Feed, Incoming) {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    (Feed { chunks: tx }, Incoming { chunks: rx, remaining: length })
}

impl http_body::Body for Incoming {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        match ready!(self.chunks.poll_recv(cx)) {
            Some(Ok(data)) => {
                if let Some(remaining) = self.remaining.as_mut() {
                    *remaining = remaining.saturating_sub(data.len() as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining.map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// Reads the body off the connection into `feed` until it ends. `true` when it was read to its
/// end (the connection may carry another request); `false` when the handler stopped reading it
/// or the client broke off (the connection must close, since the rest of the body is unread).
pub async fn pump(io: &mut (impl AsyncRead + Unpin), buf: &mut BytesMut, mut decoder: Decoder, feed: Feed) -> bool {
    loop {
        let failure = match decoder.decode(buf, false) {
            Ok(Decoded::End) => return true,
            Ok(Decoded::Data(data)) => {
                if feed.chunks.send(Ok(data)).await.is_err() {
                    return false; // the handler answered without the rest of the body
                }
                continue;
            }
            Ok(Decoded::More) => {
                framing::make_room(buf);
                match io.read_buf(buf).await {
                    Ok(0) => io::Error::new(io::ErrorKind::UnexpectedEof, "the client closed inside the body"),
                    Ok(_) => continue,
                    Err(e) => e,
                }
            }
            Err(e) => e, // a malformed chunked body
        };
        // The handler learns why its body ended early (it answers 400).
        let _ = feed.chunks.send(Err(failure)).await;
        return false;
    }
}
