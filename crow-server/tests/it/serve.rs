//! Serving connections, on the wire: a client that never finishes its request head is
//! disconnected; shutdown lets the request in flight finish before the connection closes; and
//! HTTP/1.1 framing — pipelining, bodies that arrive after the head, chunked bodies both ways,
//! `100 Continue`, `HEAD`, HTTP/1.0 — with every ambiguous framing refused.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use crow_server::http::edge::App;
use crow_server::http::serve::serve_with;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

async fn start(router: Router) -> (std::net::SocketAddr, CancellationToken, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server =
        tokio::spawn(serve_with(listener, App::new(router, None), shutdown.clone(), Duration::from_millis(300)));
    (addr, shutdown, server)
}

/// Everything the server sends until it closes the connection, or `None` if it keeps it open
/// for `within`.
async fn read_to_close(io: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    tokio::time::timeout(within, io.read_to_end(&mut out)).await.ok()?.ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let (addr, shutdown, server) = start(Router::new().route("/x", get(|| async { "x" }))).await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ").await.unwrap();
    assert!(read_to_close(&mut slow, Duration::from_secs(5)).await.is_some(), "still connected");
    // A client that sends its head in time is served on the same server.
    let mut prompt = tokio::net::TcpStream::connect(addr).await.unwrap();
    prompt.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await.unwrap();
    let answer = read_to_close(&mut prompt, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nx"), "{answer}");
    assert!(answer.contains("x-content-type-options: nosniff"), "the edge's headers: {answer}");
    shutdown.cancel();
    server.await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight_then_closes() {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(started_tx)));
    let router = Router::new().route(
        "/slow",
        get(move || {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "done"
            }
        }),
    );
    let (addr, shutdown, server) = start(router).await;
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    started_rx.await.unwrap();
    shutdown.cancel();
    // The keep-alive connection gets its answer and is then closed; no new connection is taken.
    let answer = read_to_close(&mut io, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("done"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
}

/// A router with the routes the framing tests need.
fn framing_router() -> Router {
    use axum::body::{Body, Bytes};
    use axum::routing::post;
    Router::new()
        .route("/x", get(|| async { "x" }))
        .route("/echo", post(|body: Bytes| async move { body }))
        // Answers at once with the request's body, streamed back as it arrives.
        .route("/duplex", post(|request: axum::extract::Request| async move { Body::new(request.into_body()) }))
        .route("/small", post(|body: Bytes| async move { body }).layer(axum::extract::DefaultBodyLimit::max(16)))
        .route(
            "/stream",
            get(|| async {
                // Three pieces with pauses between them: the length is unknown, so it is chunked.
                let pieces = futures_util::stream::unfold(0, |i| async move {
                    if i == 3 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from(format!("part{i};"))), i + 1))
                });
                Body::from_stream(pieces)
            }),
        )
}

/// Sends `wire` and returns everything the server sent until it closed the connection.
async fn exchange(addr: std::net::SocketAddr, wire: &[u8]) -> String {
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(wire).await.unwrap();
    read_to_close(&mut io, Duration::from_secs(5)).await.expect("the server kept the connection open")
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    let answer = exchange(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirstGET /x HTTP/1.1\r\nHost: a\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nConnection: close\r\n\r\nthird!",
    )
    .await;
    let statuses: Vec<_> = answer.match_indices("HTTP/1.1 200 OK").collect();
    assert_eq!(statuses.len(), 3, "{answer}");
    let (first, x, third) = (answer.find("\r\n\r\nfirst"), answer.find("\r\n\r\nx"), answer.find("\r\n\r\nthird!"));
    assert!(first < x && x < third && first.is_some(), "{answer}");
    assert!(answer.ends_with("connection: close\r\n\r\nthird!") || answer.ends_with("third!"), "{answer}");
    shutdown.cancel();
}

#[tokio::test]
async fn bodies_that_arrive_later_or_chunked_are_read_and_the_connection_goes_on() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The head first, the body after a pause: the handler reads it as it arrives.
    io.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    io.write_all(b" world").await.unwrap();
    // Then a chunked body, split mid-chunk, with an extension and a trailer.
    io.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;x=y\r\nabc\r\n4\r\nde")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    io.write_all(b"fg\r\n0\r\nx-trailer: 1\r\n\r\n").await.unwrap();
    let answer = read_to_close(&mut io, Duration::from_secs(5)).await.unwrap();
    assert!(answer.contains("content-length: 11\r\n"), "{answer}");
    assert!(answer.contains("\r\n\r\nhello worldHTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nabcdefg"), "{answer}");
    shutdown.cancel();
}

#[tokio::test]
async fn ambiguous_or_malformed_heads_are_refused_with_json_and_the_connection_closed() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    for (wire, status) in [
        // CL.TE: a front end reading the length and a back end reading chunks would disagree on
        // where the smuggled GET starts. Refused, and nothing after it is read as a request.
        (
            &b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            "400 Bad Request",
        ),
        (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "400 Bad Request"),
        (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "400 Bad Request"),
        (b"GET /x HTTP/1.1\r\n\r\n", "400 Bad Request"),
        (b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n", "400 Bad Request"),
    ] {
        let answer = exchange(addr, wire).await;
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{answer}");
        assert!(answer.contains("connection: close\r\n") && answer.contains("\"code\":\"BAD_REQUEST\""), "{answer}");
        assert_eq!(answer.matches("\r\nreferrer-policy:").count(), 1, "a second request was read: {answer}");
    }
    // A malformed chunked body: the handler's read fails and the connection closes.
    let answer =
        exchange(addr, b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
            .await;
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    let mut huge = b"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
    huge.resize(70 * 1024, b'a');
    let answer = exchange(addr, &huge).await;
    assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{answer}");
    assert!(answer.contains("REQUEST_HEADERS_TOO_LARGE"), "{answer}");
    shutdown.cancel();
}

#[tokio::test]
async fn a_body_refused_before_it_is_read_still_gets_its_answer() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    // 64 KiB declared, 16 allowed: the 413 comes back while most of the body is unsent, and the
    // connection closes (the rest of the body would be misread as a request).
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(b"POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n").await.unwrap();
    io.write_all(&[b'a'; 4096]).await.unwrap();
    let answer = read_to_close(&mut io, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"), "{answer}");
    assert!(answer.contains("connection: close\r\n"), "{answer}");
    shutdown.cancel();
}

#[tokio::test]
async fn expect_continue_head_http10_and_streamed_answers() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    // The client waits for 100 Continue before sending its body.
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(5), io.read_exact(&mut interim)).await.unwrap().unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    io.write_all(b"ping").await.unwrap();
    let answer = read_to_close(&mut io, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nping"), "{answer}");

    // HEAD: the length a GET would have, no body.
    let answer = exchange(addr, b"HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await;
    assert!(answer.contains("content-length: 1\r\n") && answer.ends_with("\r\n\r\n"), "{answer}");

    // A streamed answer is chunked for HTTP/1.1 clients…
    let answer = exchange(addr, b"GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await;
    assert!(answer.contains("transfer-encoding: chunked\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n6\r\npart0;\r\n6\r\npart1;\r\n6\r\npart2;\r\n0\r\n\r\n"), "{answer}");
    // …and sent raw until the close to HTTP/1.0 clients, who get one request per connection.
    let answer = exchange(addr, b"GET /stream HTTP/1.0\r\n\r\n").await;
    assert!(answer.contains("connection: close\r\n") && !answer.contains("transfer-encoding"), "{answer}");
    assert!(answer.ends_with("\r\n\r\npart0;part1;part2;"), "{answer}");
    let answer = exchange(addr, b"GET /x HTTP/1.0\r\n\r\nGET /x HTTP/1.0\r\n\r\n").await;
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 1, "{answer}");
    shutdown.cancel();
}

#[tokio::test]
async fn an_answer_can_stream_the_request_body_back_while_it_arrives() {
    let (addr, shutdown, _server) = start(framing_router()).await;
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(b"POST /duplex HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello")
        .await
        .unwrap();
    // The first half comes back before the second is sent.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).ends_with("\r\n\r\nhello") {
        let mut chunk = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), io.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&chunk[..n]);
    }
    io.write_all(b"world").await.unwrap();
    let rest = read_to_close(&mut io, Duration::from_secs(5)).await.unwrap();
    let answer = String::from_utf8_lossy(&seen).into_owned() + &rest;
    // The request's declared length is the answer's.
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.contains("content-length: 10\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nhelloworld"), "{answer}");
    shutdown.cancel();
}
