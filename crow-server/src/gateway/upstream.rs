//! Service processes reached over HTTP/1.1: a connection pool per service and a client that
//! runs in the task serving the gateway's request.
//!
//! Why not hyper's pooled client: it drives each connection from a task of its own, so every
//! proxied request crossed a channel and a task wake-up on the way up and another on the way
//! back. On loopback that hand-off cost more CPU than the gateway's whole pipeline. Here the task
//! that serves the client writes the upstream request and reads the answer itself; an answer
//! whose body is not yet complete keeps the connection and gives it back to the pool once the
//! body has been read to the end. Parsing is httparse's; message framing
//! follows RFC 9112 §6 and lives in [`crate::http::framing`], shared with the server.

use std::collections::VecDeque;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, header};
use axum::response::Response;
use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body as _, Frame, SizeHint};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::http::fields::{self, MAX_HEADERS, Malformed};
use crate::http::framing::{self, Chunk, Decoded, Decoder, READ_CHUNK};
use crate::http::hop::{self, HOP_BY_HOP, HopByHop, remove_where};
use crate::http::outgoing::{self, Encoding, Ended};

/// Idle connections kept per service.
const MAX_IDLE: usize = 256;
/// An idle connection older than this is closed rather than reused: services close idle
/// connections too, and a connection is best retired before the other side does it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response head (status line and headers) accepted from a service.
const MAX_HEAD: usize = 64 * 1024;
/// Request headers the client writes itself: `Host` and the framing belong to this hop.
fn is_own(name: &HeaderName) -> bool {
    *name == header::HOST
        || *name == header::CONTENT_LENGTH
        || *name == header::TRANSFER_ENCODING
        || *name == header::EXPECT
}

/// Selects headers left out of a message passed on.
pub type Strip<'a> = &'a (dyn Fn(&HeaderName) -> bool + Sync);

/// How the gateway changes what passes through a call: request headers left out (`strip`) and
/// lines added (`added`) as the request's head is written; answer headers left out (`hide`) as
/// the answer's head is read. Applied in those passes, so no header map is edited.
#[derive(Clone, Copy)]
pub struct Rewrite<'a> {
    pub strip: Strip<'a>,
    pub added: &'a [&'a [u8]],
    pub hide: Strip<'a>,
}

impl Rewrite<'_> {
    /// Passes everything on unchanged.
    #[cfg(test)]
    const NONE: Rewrite<'static> = Rewrite { strip: &|_| false, added: &[], hide: &|_| false };
}

/// Why a service could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("connecting failed: {0}")]
    Connect(#[source] io::Error),
    #[error("the connection failed: {0}")]
    Io(#[from] io::Error),
    #[error("the service sent a malformed answer: {0}")]
    Malformed(&'static str),
    #[error("the service did not answer in time")]
    TimedOut,
    #[error("the client's request body failed: {0}")]
    RequestBody(#[source] axum::Error),
}

/// Where a service hosted by another process listens, with its idle connections.
#[derive(Debug)]
pub struct Upstream {
    /// `host:port`, connected to and sent as `Host`.
    authority: String,
    host: HeaderValue,
    /// A path the service is mounted under (usually empty), without a trailing `/`.
    prefix: String,
    pool: Arc<Pool>,
}

impl Upstream {
    /// `http://host[:port][/prefix]`; configuration has refused anything else.
    pub fn parse(base: &str) -> Option<Self> {
        let uri: Uri = base.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?;
        let authority = match authority.port_u16() {
            Some(_) => authority.as_str().to_owned(),
            None => format!("{}:80", authority.host()),
        };
        Some(Self {
            host: HeaderValue::from_str(&authority).ok()?,
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
            pool: Arc::default(),
        })
    }

    /// Sends `request`, rewritten, and returns the answer once its head has arrived, by
    /// `deadline` ([`UpstreamError::TimedOut`] otherwise); the body streams behind it. A reused
    /// connection that turns out to be closed before anything came back is replaced once, for
    /// idempotent requests without a body (RFC 9110 §9.2.2).
    pub async fn send(
        &self,
        request: Request,
        rewrite: Rewrite<'_>,
        deadline: Instant,
    ) -> Result<Response, UpstreamError> {
        let (mut parts, body) = request.into_parts();
        let length = body.size_hint().exact();
        let head = self.head(&parts.method, &parts.uri, &parts.headers, rewrite, length);
        fields::recycle(std::mem::take(&mut parts.headers));
        let mut body = (length != Some(0)).then_some(body);
        let retry = body.is_none() && is_idempotent(&parts.method);
        let head_only = parts.method == Method::HEAD;
        if let Some(conn) = self.pool.checkout() {
            match exchange(conn, &head, body.take(), head_only, rewrite.hide, deadline).await {
                Ok(answer) => return Ok(self.answer(answer)),
                // `retry` implies there was no body to lose.
                Err(Failure::Stale(_)) if retry => {}
                Err(failure) => return Err(failure.into()),
            }
        }
        let conn = self.connect(deadline).await?;
        let answer = exchange(conn, &head, body, head_only, rewrite.hide, deadline).await?;
        Ok(self.answer(answer))
    }

    async fn connect(&self, deadline: Instant) -> Result<Conn, UpstreamError> {
        let connect_by = Instant::now() + CONNECT_TIMEOUT;
        let io = match tokio::time::timeout_at(deadline.min(connect_by), TcpStream::connect(&self.authority)).await {
            Ok(io) => io.map_err(UpstreamError::Connect)?,
            Err(_) if deadline < connect_by => return Err(UpstreamError::TimedOut),
            Err(_) => return Err(UpstreamError::Connect(io::ErrorKind::TimedOut.into())),
        };
        io.set_nodelay(true).map_err(UpstreamError::Connect)?;
        Ok(Conn { io, buf: BytesMut::with_capacity(READ_CHUNK), timer: Box::pin(tokio::time::sleep_until(deadline)) })
    }

    /// The request head: the target under the service's prefix, `Host`, the headers but those
    /// the gateway strips, the lines it adds, and framing of our own (the client's framing
    /// belongs to its hop).
    fn head(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        rewrite: Rewrite<'_>,
        length: Option<u64>,
    ) -> Vec<u8> {
        // Room for the usual head, which carries a signed token (a few hundred bytes).
        let mut head = Vec::with_capacity(1024);
        head.extend_from_slice(method.as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(self.prefix.as_bytes());
        head.extend_from_slice(uri.path_and_query().map_or("/", |p| p.as_str()).as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        head.extend_from_slice(self.host.as_bytes());
        head.extend_from_slice(b"\r\n");
        outgoing::header_lines(&mut head, headers, |name| is_own(name) || (rewrite.strip)(name));
        for lines in rewrite.added {
            head.extend_from_slice(lines);
        }
        match length {
            Some(0) if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) => {}
            Some(n) => outgoing::content_length_line(&mut head, n),
            None => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    /// The response as the gateway passes it on; the connection goes back to the pool as soon
    /// as nothing more is to be read from it.
    fn answer(&self, answer: Answer) -> Response {
        let Answer { mut response, mut conn, mut decoder, reusable } = answer;
        let body = match decoder.take_buffered(&mut conn.buf) {
            // The whole body came with the head (the usual case for API answers).
            Some(bytes) => {
                self.pool.release(conn, reusable);
                Body::from(bytes)
            }
            None => Body::new(Streaming { conn: Some(conn), decoder, reusable, pool: Arc::clone(&self.pool) }),
        };
        *response.body_mut() = body;
        response
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE)
}

/// One connection to a service and what has been read from it but not yet used.
#[derive(Debug)]
struct Conn {
    io: TcpStream,
    buf: BytesMut,
    /// Each exchange's deadline. One timer for the connection's life, moved to the next
    /// deadline per exchange (which the runtime does without touching its timer wheel when
    /// the deadline is later), rather than a timer set up and torn down per request.
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    /// Whether an idle connection is still usable: nothing may arrive on an idle HTTP/1.1
    /// connection, so readable means the service closed it (or broke the protocol). The check
    /// costs no system call unless the reactor saw the socket become readable.
    fn is_usable(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match self.io.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            Poll::Ready(Ok(())) => {
                matches!(self.io.try_read(&mut [0; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }
}

/// Idle connections, most recently used last.
#[derive(Debug, Default)]
struct Pool {
    idle: Mutex<VecDeque<(Conn, Instant)>>,
}

impl Pool {
    fn checkout(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((conn, since)) = idle.pop_back() {
            if since.elapsed() < IDLE_TIMEOUT && conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    /// Takes a connection back after an exchange: kept when the answer allowed reuse and
    /// nothing beyond it was received, closed otherwise.
    fn release(&self, conn: Conn, reusable: bool) {
        if !reusable || !conn.buf.is_empty() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        while idle.front().is_some_and(|(_, since)| now.duration_since(*since) >= IDLE_TIMEOUT) {
            idle.pop_front();
        }
        if idle.len() < MAX_IDLE {
            idle.push_back((conn, now));
        }
    }
}

/// How one exchange failed: `Stale` when the connection broke before any of the answer arrived
/// (the request may be sent again on another connection if it is safe to), `Other` otherwise.
enum Failure {
    Stale(io::Error),
    Other(UpstreamError),
}

impl From<Malformed> for UpstreamError {
    fn from(Malformed(why): Malformed) -> Self {
        Self::Malformed(why)
    }
}

impl From<Failure> for UpstreamError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Stale(e) => Self::Io(e),
            Failure::Other(e) => e,
        }
    }
}

/// An answer whose head has been read.
struct Answer {
    response: Response,
    conn: Conn,
    decoder: Decoder,
    reusable: bool,
}

/// Writes the request, then reads the answer's head (skipping interim 1xx answers), without the
/// headers `hide` selects, by `deadline`.
async fn exchange(
    mut conn: Conn,
    head: &[u8],
    body: Option<Body>,
    head_only: bool,
    hide: Strip<'_>,
    deadline: Instant,
) -> Result<Answer, Failure> {
    let Conn { io, buf, timer } = &mut conn;
    timer.as_mut().reset(deadline);
    let (response, decoder, reusable) = tokio::select! {
        biased;
        answered = talk(io, buf, head, body, head_only, hide) => answered?,
        () = timer.as_mut() => return Err(Failure::Other(UpstreamError::TimedOut)),
    };
    Ok(Answer { response, conn, decoder, reusable })
}

/// [`exchange`]'s work, without the deadline.
async fn talk(
    io: &mut TcpStream,
    buf: &mut BytesMut,
    head: &[u8],
    body: Option<Body>,
    head_only: bool,
    hide: Strip<'_>,
) -> Result<(Response, Decoder, bool), Failure> {
    let mut write_error = match body {
        None => io.write_all(head).await.map_err(Failure::Stale),
        Some(body) => write_streamed(io, head, body).await,
    }
    .err();
    let wrote_all = write_error.is_none();
    let parsed = loop {
        if !buf.is_empty() {
            match parse_head(buf, head_only, hide) {
                Ok(Some(Parsed::Interim)) => continue,
                Ok(Some(Parsed::Final(response, decoder, reusable))) => break (response, decoder, reusable),
                Ok(None) if buf.len() > MAX_HEAD => {
                    return Err(Failure::Other(UpstreamError::Malformed("response head too large")));
                }
                Ok(None) => {}
                Err(e) => return Err(Failure::Other(e)),
            }
        }
        framing::make_room(buf);
        let nothing_yet = buf.is_empty();
        let read = io.read_buf(buf).await;
        // A service may answer (413, say) and close before reading the whole request: an answer
        // that arrives counts; without one, the write's error is the one to report.
        if matches!(read, Ok(0) | Err(_))
            && let Some(failure) = write_error.take()
        {
            return Err(failure);
        }
        match read {
            Ok(0) if nothing_yet => return Err(Failure::Stale(io::ErrorKind::UnexpectedEof.into())),
            Ok(0) => return Err(Failure::Other(UpstreamError::Malformed("connection closed inside the head"))),
            Ok(_) => {}
            Err(e) if nothing_yet => return Err(Failure::Stale(e)),
            Err(e) => return Err(Failure::Other(e.into())),
        }
    };
    let (response, decoder, reusable) = parsed;
    Ok((response, decoder, reusable && wrote_all))
}

/// Writes the head and a body of unknown or non-zero length: with `Content-Length` as declared
/// when the size is known, chunked otherwise.
async fn write_streamed(io: &mut TcpStream, head: &[u8], body: Body) -> Result<(), Failure> {
    let encoding = body.size_hint().exact().map_or(Encoding::Chunked, Encoding::Length);
    let mut out = Vec::with_capacity(head.len() + 1024);
    out.extend_from_slice(head);
    match outgoing::write_body(io, &mut out, body, encoding).await {
        Ok(Ended::Complete) => Ok(()),
        Ok(Ended::Failed(e)) => Err(Failure::Other(UpstreamError::RequestBody(e))),
        Ok(Ended::WrongLength) => Err(Failure::Other(UpstreamError::RequestBody(axum::Error::new(
            "the request body's size differs from its declared length",
        )))),
        Err(e) => Err(Failure::Other(e.into())),
    }
}

#[derive(Debug)]
pub(crate) enum Parsed {
    /// A 1xx answer other than 101, consumed; the final answer follows.
    Interim,
    Final(Response, Decoder, bool),
}

/// Parses one answer head off the front of `buf`, without the headers `hide` selects; `None`
/// until it is complete.
pub(crate) fn parse_head(
    buf: &mut BytesMut,
    head_only: bool,
    hide: Strip<'_>,
) -> Result<Option<Parsed>, UpstreamError> {
    // Uninitialised slots: httparse writes the ones it uses, and zeroing 100 of them per answer
    // cost more than parsing a short head.
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut parsed, buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(UpstreamError::Malformed("too many headers")),
        Err(_) => return Err(UpstreamError::Malformed("unparsable head")),
    };
    let status =
        parsed.code.and_then(|c| StatusCode::from_u16(c).ok()).ok_or(UpstreamError::Malformed("bad status code"))?;
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(UpstreamError::Malformed("protocol upgrades are not proxied"));
    }
    if status.is_informational() {
        buf.advance(len);
        return Ok(Some(Parsed::Interim));
    }
    let http11 = parsed.version == Some(1);
    let lines = fields::located(buf, parsed.headers);
    let head = buf.split_to(len).freeze();
    let (mut chunked, mut te, mut close) = (false, false, !http11);
    let mut length: Option<u64> = None;
    // Hop-by-hop headers describe this connection; they are read here and never passed on.
    let mut hop = HopByHop::default();
    // Room for what the gateway and the edge add, so the map never regrows.
    let mut headers = lines.build(&head, 12, |name, value| {
        if name == header::TRANSFER_ENCODING {
            te = true;
            // Only the final coding decides how the message ends.
            let last = value.rsplit(|b| *b == b',').next().unwrap_or_default();
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if name == header::CONTENT_LENGTH {
            let n = framing::content_length([value])
                .filter(|n| length.is_none_or(|l| l == *n))
                .ok_or(UpstreamError::Malformed("bad or conflicting content-length"))?;
            length = Some(n);
        } else if name == header::CONNECTION {
            close |= hop::lists(value, b"close");
            hop.note(value);
        }
        Ok::<_, UpstreamError>(!HOP_BY_HOP.contains(name) && !hide(name))
    })?;
    if hop.names_others() {
        remove_where(&mut headers, |name| hop.contains(name));
    }
    let decoder = if head_only || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        Decoder::Length(0)
    } else if te {
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, which is dropped (the
        // answer is passed on with framing of the gateway's own).
        headers.remove(header::CONTENT_LENGTH);
        if chunked { Decoder::Chunked(Chunk::Size) } else { Decoder::UntilClose }
    } else {
        length.map_or(Decoder::UntilClose, Decoder::Length)
    };
    let reusable = !close && !matches!(decoder, Decoder::UntilClose);
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    *response.version_mut() = Version::HTTP_11;
    *response.headers_mut() = headers;
    Ok(Some(Parsed::Final(response, decoder, reusable)))
}

/// A body still arriving from a service. Holds the connection until the body is complete, then
/// returns it to the pool; dropped early (the client went away), it closes the connection.
struct Streaming {
    conn: Option<Conn>,
    decoder: Decoder,
    reusable: bool,
    pool: Arc<Pool>,
}

impl http_body::Body for Streaming {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        let this = &mut *self;
        let mut eof = false;
        loop {
            let Some(conn) = this.conn.as_mut() else { return Poll::Ready(None) };
            match this.decoder.decode(&mut conn.buf, eof) {
                Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Ok(Decoded::End) => {
                    if let Some(conn) = this.conn.take() {
                        this.pool.release(conn, this.reusable && !eof);
                    }
                    return Poll::Ready(None);
                }
                Ok(Decoded::More) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            framing::make_room(&mut conn.buf);
            let read = ready!(tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.buf));
            match read {
                Ok(0) => eof = true,
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.decoder == Decoder::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.decoder.remaining() {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(wire: &[u8], head_only: bool) -> Result<Option<Parsed>, UpstreamError> {
        parse_head(&mut BytesMut::from(wire), head_only, &|name| name == "x-hidden")
    }

    fn final_head(wire: &[u8]) -> (Response, Decoder, bool) {
        match head(wire, false) {
            Ok(Some(Parsed::Final(r, d, reusable))) => (r, d, reusable),
            other => panic!("not a final head: {:?}", other.err()),
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let (r, d, reusable) = final_head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-Hidden: 1\r\nX-A: b\r\n\r\n");
        assert_eq!((r.status(), d, reusable), (StatusCode::OK, Decoder::Length(12), true));
        assert_eq!(r.headers()["x-a"], "b");
        assert!(!r.headers().contains_key("x-hidden"), "what the gateway hides is left out");
        // Transfer-Encoding wins over Content-Length, which is dropped.
        let (r, d, _) = final_head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(d, Decoder::Chunked(Chunk::Size));
        assert!(!r.headers().contains_key(header::CONTENT_LENGTH));
        // No length: the body runs to the close, and the connection cannot be reused.
        let (_, d, reusable) = final_head(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((d, reusable), (Decoder::UntilClose, false));
        let (_, d, reusable) = final_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!((d, reusable), (Decoder::UntilClose, false));
        let (_, _, reusable) = final_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assert!(!reusable);
        let (_, _, reusable) = final_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(!reusable, "HTTP/1.0 closes by default");
        // No body whatever the headers say.
        let (_, d, _) = final_head(b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n");
        assert_eq!(d, Decoder::Length(0));
        match head(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true) {
            Ok(Some(Parsed::Final(_, d, _))) => assert_eq!(d, Decoder::Length(0), "answer to HEAD"),
            _ => panic!("HEAD answer"),
        }
        assert!(matches!(head(b"HTTP/1.1 100 Continue\r\n\r\n", false), Ok(Some(Parsed::Interim))));
        assert!(matches!(head(b"HTTP/1.1 200 OK\r\nContent-Le", false), Ok(None)));
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            b"NOT HTTP\r\n\r\n",
        ] {
            assert!(head(bad, false).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn answers_keep_no_hop_by_hop_headers() {
        let (r, d, reusable) = final_head(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: 1\r\n\
              Upgrade: h2c\r\nContent-Length: 2\r\nX-A: b\r\n\r\n",
        );
        assert_eq!((d, reusable), (Decoder::Length(2), true));
        let mut names: Vec<_> = r.headers().keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-length", "x-a"]);
    }

    #[test]
    fn request_heads_carry_our_framing_and_host_not_the_clients() {
        let upstream = Upstream::parse("http://svc.internal:9000/base").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("evil.example"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert("x-a", HeaderValue::from_static("b"));
        let uri: Uri = "/api/v1/x?q=1".parse().unwrap();
        let text = |h: Vec<u8>| String::from_utf8(h).unwrap();
        let strip_a = |name: &HeaderName| name == "x-a";
        let get = text(upstream.head(
            &Method::GET,
            &uri,
            &headers,
            Rewrite { added: &[b"x-b: c\r\n", b""], ..Rewrite::NONE },
            Some(0),
        ));
        assert_eq!(get, "GET /base/api/v1/x?q=1 HTTP/1.1\r\nhost: svc.internal:9000\r\nx-a: b\r\nx-b: c\r\n\r\n");
        let stripped = text(upstream.head(
            &Method::GET,
            &uri,
            &headers,
            Rewrite { strip: &strip_a, added: &[b"x-b: c\r\n"], ..Rewrite::NONE },
            Some(0),
        ));
        assert_eq!(stripped, "GET /base/api/v1/x?q=1 HTTP/1.1\r\nhost: svc.internal:9000\r\nx-b: c\r\n\r\n");
        let post = text(upstream.head(&Method::POST, &uri, &headers, Rewrite::NONE, Some(3)));
        assert!(post.ends_with("x-a: b\r\ncontent-length: 3\r\n\r\n"), "{post}");
        let stream = text(upstream.head(&Method::POST, &uri, &headers, Rewrite::NONE, None));
        assert!(stream.ends_with("transfer-encoding: chunked\r\n\r\n"), "{stream}");
        assert_eq!(Upstream::parse("http://svc").unwrap().authority, "svc:80");
        assert!(Upstream::parse("https://svc").is_none());
    }
}
