//! Serving connections: a client that never finishes its request head is disconnected, and
//! shutdown lets the request in flight finish before the connection closes.

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
