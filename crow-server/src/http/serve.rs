//! Accepting connections and serving HTTP/1.1 on them (`http::h1` serves each one).
//!
//! Why not `axum::serve`: it configures no timer, so a client may hold a connection open
//! forever by sending a request head a byte at a time (slow-loris); here it is disconnected
//! after `HEADER_READ_TIMEOUT`. It also leaves Nagle's algorithm on for client sockets.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::http::edge::App;

/// Longest a client may take to send a request head, and longest a connection may idle.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after an accept error (out of file descriptors, say) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets every open connection
/// finish the request in flight and returns once all are closed.
pub async fn serve(listener: TcpListener, app: App, shutdown: CancellationToken) {
    serve_with(listener, app, shutdown, HEADER_READ_TIMEOUT).await;
}

/// [`serve`] with another request-head timeout (tests use a short one).
pub async fn serve_with(listener: TcpListener, app: App, shutdown: CancellationToken, head_timeout: Duration) {
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let edge = app.edge(peer);
        let shutdown = shutdown.clone();
        connections.spawn(crate::http::h1::serve_connection(stream, edge, shutdown, head_timeout));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}
