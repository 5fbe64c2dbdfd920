//! One HTTP/1.1 connection from a client: read a head, hand the request to the edge, write the
//! answer, and again while the connection persists.
//!
//! Why not hyper's server: on the gateway's hot path (a proxied request on a kept-alive
//! connection) hyper's dispatcher cost about 3 µs of CPU per request more than a loop over
//! httparse doing the same work, which was most of the gap to nginx (README, Performance).
//! What hyper did for us is here, kept to the subset a JSON API needs and strict where
//! leniency is dangerous:
//!
//! - heads are parsed by httparse (hyper's parser) and framed by [`head`], which refuses every
//!   ambiguous framing rather than choosing one;
//! - bodies stream both ways, at once: a request body is read through a bounded channel
//!   ([`body`]) while the handler runs and while its answer is written, answers are written as
//!   their frames arrive, with `Content-Length` when known and chunked otherwise;
//! - a client gets the head timeout given to [`serve_connection`] to send each head
//!   (slow-loris clients and idle connections are closed), pipelined requests are answered in
//!   order;
//! - HTTP/1.0 clients are served one request per connection; upgrades are not offered;
//! - when the connection is closed with unread input, it is half-closed and drained first
//!   (lingering close), so the client reads the answer instead of a reset.

mod body;
pub(crate) mod head;
mod response;

use std::io;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Version, header};
use axum::response::{IntoResponse as _, Response};
use bytes::BytesMut;
use futures_util::FutureExt as _;
use http_body::Body as _;
use tokio::io::{AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::http::ApiError;
use crate::http::edge::Edge;
use crate::http::fields;
use crate::http::framing::{self, Chunk, Decoder, READ_CHUNK, content_length};
use crate::http::outgoing::{self, Encoding, Ended, WRITE_CHUNK};
use head::{Framing, Head, HeadError};

/// Longest a closing connection keeps reading what the client still sends.
const LINGER: Duration = Duration::from_secs(2);
/// Most bytes read and dropped while lingering.
const LINGER_BYTES: usize = 1024 * 1024;

/// Serves the connection `io` until the client closes it, it idles past the head timeout, an
/// answer requires closing, or `shutdown` is cancelled (the request in flight is answered first).
pub async fn serve_connection(io: TcpStream, edge: Edge, shutdown: CancellationToken, head_timeout: Duration) {
    let mut conn = Conn { io, buf: BytesMut::with_capacity(READ_CHUNK), out: Vec::with_capacity(1024) };
    // One timer and one cancellation wait for the connection's life, not one per request: the
    // timer fires at most once per `head_timeout` and is then moved to the current deadline.
    let timer = tokio::time::sleep(head_timeout);
    let cancelled = shutdown.clone().cancelled_owned();
    tokio::pin!(timer, cancelled);
    loop {
        let deadline = Instant::now() + head_timeout;
        let head = match conn.read_head(deadline, timer.as_mut(), cancelled.as_mut()).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(refused) => {
                let _ = write_answer(&mut conn.io, &mut conn.out, refusal(refused), false, true, true).await;
                return conn.linger().await;
            }
        };
        let Head { request, framing, keep_alive, expect_continue } = head;
        let exchange = Exchange {
            head_request: request.method() == Method::HEAD,
            http11: request.version() == Version::HTTP_11,
            keep_alive,
            shutdown: &shutdown,
        };
        let outcome = match framing {
            Framing::Empty => {
                let response = edge.answer(request.map(|()| Body::empty())).await;
                conn.reply(response, &exchange).await
            }
            // The usual case for API requests: the body came with the head.
            Framing::Length(n) if conn.buf.len() as u64 >= n => {
                let body = conn.buf.split_to(usize::try_from(n).unwrap_or(usize::MAX)).freeze();
                let response = edge.answer(request.map(|()| Body::from(body))).await;
                conn.reply(response, &exchange).await
            }
            Framing::Length(n) => {
                let decoder = Decoder::Length(n);
                conn.streaming(&edge, request, decoder, Some(n), expect_continue, &exchange).await
            }
            Framing::Chunked => {
                let decoder = Decoder::Chunked(Chunk::Size);
                conn.streaming(&edge, request, decoder, None, expect_continue, &exchange).await
            }
        };
        match outcome {
            Ok(true) => {}
            Ok(false) => return conn.linger().await,
            Err(e) => {
                tracing::debug!(error = %e, "writing an answer failed");
                return;
            }
        }
    }
}

/// The JSON error for a head that was refused.
fn refusal(refused: HeadError) -> Response {
    let code = match refused {
        HeadError::TooLarge => crow_core::ErrorCode::HeadersTooLarge,
        HeadError::Bad(_) => crow_core::ErrorCode::BadRequest,
    };
    ApiError::new(code, refused.to_string()).into_response()
}

/// What the answer to one request depends on besides the answer itself.
struct Exchange<'a> {
    head_request: bool,
    http11: bool,
    /// The client lets the connection persist.
    keep_alive: bool,
    shutdown: &'a CancellationToken,
}

impl Exchange<'_> {
    /// Whether the connection closes after `response`.
    fn must_close(&self, response: &Response) -> bool {
        !self.keep_alive
            || self.shutdown.is_cancelled()
            || head::has_token(response.headers(), header::CONNECTION, "close")
    }
}

/// A client connection and its buffers.
struct Conn {
    io: TcpStream,
    /// Read but not yet used: the rest of a head, a body, pipelined requests.
    buf: BytesMut,
    /// An answer being gathered for writing.
    out: Vec<u8>,
}

impl Conn {
    /// The next request head. `None` when the client closed the connection, took longer than
    /// `deadline` or the server is shutting down.
    async fn read_head(
        &mut self,
        deadline: Instant,
        mut timer: Pin<&mut Sleep>,
        mut cancelled: Pin<&mut WaitForCancellationFutureOwned>,
    ) -> Result<Option<Head>, HeadError> {
        loop {
            if !self.buf.is_empty()
                && let Some(head) = head::parse(&mut self.buf)?
            {
                return Ok(Some(head));
            }
            framing::make_room(&mut self.buf);
            tokio::select! {
                biased;
                read = self.io.read_buf(&mut self.buf) => match read {
                    Ok(0) | Err(_) => return Ok(None),
                    Ok(_) => {}
                },
                () = timer.as_mut() => {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    timer.as_mut().reset(deadline);
                }
                () = cancelled.as_mut() => return Ok(None),
            }
        }
    }

    /// Writes the answer to a request whose body was read whole. `Ok(true)` when the connection
    /// can carry another request.
    async fn reply(&mut self, response: Response, exchange: &Exchange<'_>) -> io::Result<bool> {
        let close = exchange.must_close(&response);
        let (head_request, http11) = (exchange.head_request, exchange.http11);
        let complete = write_answer(&mut self.io, &mut self.out, response, head_request, http11, close).await?;
        Ok(complete && !close)
    }

    /// Answers a request whose body is still arriving. The body is read while the handler runs
    /// and while its answer is written, since a handler may start streaming its answer before
    /// it has read the whole body. The connection carries another request only if the body
    /// was read to its end.
    async fn streaming(
        &mut self,
        edge: &Edge,
        request: axum::http::Request<()>,
        decoder: Decoder,
        length: Option<u64>,
        expect_continue: bool,
        exchange: &Exchange<'_>,
    ) -> io::Result<bool> {
        if expect_continue {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let (feed, incoming) = body::channel(length);
        let watch = feed.watch();
        let Self { io, buf, out } = self;
        let (mut reader, mut writer) = io.split();
        let pump = body::pump(&mut reader, buf, decoder, feed);
        let answer = edge.answer(request.map(|()| Body::new(incoming)));
        tokio::pin!(pump, answer);
        let mut read_to_end = None;
        let response = beside_body(answer, pump.as_mut(), &mut read_to_end).await;
        // A body the handler will not read makes the connection unusable: say so in the answer.
        let close = exchange.must_close(&response) || read_to_end == Some(false) || watch.abandoned();
        let write = write_answer(&mut writer, out, response, exchange.head_request, exchange.http11, close);
        tokio::pin!(write);
        let complete = beside_body(write, pump, &mut read_to_end).await?;
        Ok(complete && !close && read_to_end == Some(true))
    }

    /// Closes the connection without losing the answer just written: the write side is shut
    /// (the client sees the end), then whatever the client still sends is read and dropped for a
    /// while, since closing a socket with unread input makes the kernel send a reset, which can
    /// destroy the answer before the client has read it.
    async fn linger(mut self) {
        if self.io.shutdown().await.is_err() {
            return;
        }
        let drain = async {
            let mut dropped = 0;
            // On the heap: an array here would be part of every connection's future (8 KB of
            // its 10), though only closing connections use it.
            let mut scratch = vec![0u8; 8192];
            while dropped < LINGER_BYTES {
                match self.io.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => dropped += n,
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    }
}

/// Runs `work` to its end while the request body keeps being read by `pump`, noting in
/// `read_to_end` how the body ended once it has (also when it ended with the work's last step).
async fn beside_body<T>(
    mut work: Pin<&mut impl Future<Output = T>>,
    mut pump: Pin<&mut impl Future<Output = bool>>,
    read_to_end: &mut Option<bool>,
) -> T {
    let out = loop {
        tokio::select! {
            biased;
            out = work.as_mut() => break out,
            done = pump.as_mut(), if read_to_end.is_none() => *read_to_end = Some(done),
        }
    };
    if read_to_end.is_none() {
        *read_to_end = pump.now_or_never();
    }
    out
}

/// Writes `response` to `io`, gathering it in `out`. `Ok(true)` when it went out whole and
/// framed, so the connection can carry another request (if `close` does not say otherwise).
async fn write_answer(
    io: &mut (impl AsyncWrite + Unpin),
    out: &mut Vec<u8>,
    response: Response,
    head_request: bool,
    http11: bool,
    close: bool,
) -> io::Result<bool> {
    let (parts, body) = response.into_parts();
    let mut plan = response::plan(parts.status, head_request, body.size_hint().exact(), http11);
    if head_request
        && plan.declare != response::Declare::Nothing
        && let Some(n) = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| content_length([v.as_bytes()]))
    {
        // The router answers HEAD with an empty body and the length a GET would have.
        plan.declare = response::Declare::Length(n);
    }
    let until_close = plan.write == Some(Encoding::Raw);
    let close = close || until_close;
    out.clear();
    response::encode_head(out, &parts, plan.declare, close);
    fields::recycle(parts.headers);
    let Some(encoding) = plan.write else {
        io.write_all(out).await?;
        return Ok(true);
    };
    let ended = outgoing::write_body(io, out, body, encoding).await?;
    match &ended {
        Ended::Complete => {}
        Ended::Failed(e) => tracing::debug!(error = %e, "an answer's body failed; closing the connection"),
        Ended::WrongLength => tracing::debug!("an answer's body does not match its length; closing"),
    }
    if out.capacity() > WRITE_CHUNK * 2 {
        *out = Vec::with_capacity(1024);
    }
    Ok(matches!(ended, Ended::Complete) && !until_close)
}
