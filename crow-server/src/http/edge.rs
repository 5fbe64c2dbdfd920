//! The edge: what every request gets before routing and every answer gets after it — a request
//! id, an access-log span and panic containment (the security headers are written with every
//! answer's head, see [`crate::http::security`]) — then `/api/` to the gateway and everything
//! else (probes, the tracker's files) to the router.
//!
//! Written as one async function rather than a stack of tower layers because the gateway's hot
//! path paid for every layer on every request: a boxed future each, an extensions map for the
//! peer address, a UUID read from the operating system. Here the connection awaits the edge
//! directly (no boxed future), and request ids come from a per-thread generator seeded once
//! (they correlate log lines; they are not secrets).

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::FutureExt as _;
use tower::ServiceExt as _;
use tracing::Instrument as _;

use crate::gateway::Gateway;
use crate::http::ApiError;
use crate::http::names::X_REQUEST_ID;

/// The application behind the edge: the gateway (when this process is the public entry point)
/// and the router for everything else.
#[derive(Clone, Debug)]
pub struct App {
    router: Router,
    gateway: Option<Arc<Gateway>>,
}

impl App {
    /// `/api/` goes to `gateway` when there is one; everything else to `router`.
    pub fn new(router: Router, gateway: Option<Arc<Gateway>>) -> Self {
        Self { router, gateway }
    }

    /// The service for one connection, from the client at `peer`.
    pub fn edge(&self, peer: SocketAddr) -> Edge {
        Edge { app: self.clone(), peer }
    }
}

/// One connection's service.
#[derive(Clone, Debug)]
pub struct Edge {
    app: App,
    peer: SocketAddr,
}

impl Edge {
    /// The answer to `request`, with the edge's headers; a panicking handler becomes a 500.
    pub async fn answer(&self, mut request: axum::extract::Request) -> Response {
        let started = Instant::now();
        // A caller's own id is kept (it ties our log lines to theirs) when it is a sane token.
        let id = match request.headers().get(&X_REQUEST_ID) {
            Some(v) if v.len() <= 128 && v.to_str().is_ok() => v.clone(),
            _ => {
                let id = request_id();
                request.headers_mut().insert(X_REQUEST_ID, id.clone());
                id
            }
        };
        // The path only: query strings may carry tokens and are not logged.
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = id.to_str().unwrap_or("-"),
        );
        self.respond(request, id, started).instrument(span).await
    }

    /// The routed answer with the edge's headers, logged; runs inside the request's span.
    async fn respond(&self, request: axum::extract::Request, id: HeaderValue, started: Instant) -> Response {
        // A panic in a handler becomes a JSON 500 for this request; its message may hold
        // request data, so it is logged by the panic hook, not sent.
        let mut response = AssertUnwindSafe(self.route(request))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| ApiError::new(crow_core::ErrorCode::InternalError, "internal error").into_response());
        // The security headers are the head writer's (`http::security`).
        response.headers_mut().insert(X_REQUEST_ID, id);
        let status = response.status().as_u16();
        // Measured only for a line that is written: an event's field values are evaluated only
        // when the event is enabled.
        let latency_us = || u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if status >= 500 {
            tracing::error!(status, latency_us = latency_us(), "answered");
        } else {
            tracing::info!(status, latency_us = latency_us(), "answered");
        }
        response
    }

    async fn route(&self, mut request: axum::extract::Request) -> Response {
        let App { router, gateway } = &self.app;
        match gateway.as_ref().filter(|_| request.uri().path().starts_with("/api/")) {
            Some(gateway) => gateway.handle(self.peer, request).await,
            None => {
                request.extensions_mut().insert(ConnectInfo(self.peer));
                match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        }
    }
}

thread_local! {
    /// SplitMix64 state, seeded from the OS once per thread.
    static STATE: Cell<u64> = Cell::new(seed());
    /// Request ids are cut from one block, a few hundred at a time, instead of each being an
    /// allocation of its own (and another when its header value is first cloned).
    static IDS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Bytes of request ids per block.
const ID_BLOCK: usize = 36 * 512;

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    // Without OS randomness, the clock still gives distinct seeds per process and thread.
    if getrandom::fill(&mut bytes).is_err() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        bytes = (now.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes();
    }
    u64::from_le_bytes(bytes)
}

fn next() -> u64 {
    STATE.with(|state| {
        let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A fresh request id, formatted as a UUID (v4 layout).
fn request_id() -> HeaderValue {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    let mut text = uuid::Uuid::encode_buffer();
    let text = uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().encode_lower(&mut text);
    let id = IDS.with_borrow_mut(|block| {
        if block.capacity() < text.len() {
            *block = BytesMut::with_capacity(ID_BLOCK);
        }
        block.extend_from_slice(text.as_bytes());
        block.split().freeze()
    });
    // Hex digits and hyphens are always a valid header value.
    HeaderValue::from_maybe_shared(id).unwrap_or(HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_a_json_500_with_the_edge_headers() {
        let router = Router::new().route(
            "/boom",
            axum::routing::get(|| async {
                panic!("handler bug");
                #[allow(unreachable_code)]
                ""
            }),
        );
        let edge = Edge { app: App::new(router, None), peer: SocketAddr::from(([127, 0, 0, 1], 1)) };
        let request = axum::extract::Request::get("/boom").body(axum::body::Body::empty()).unwrap();
        let response = edge.answer(request).await;
        assert_eq!(response.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("x-request-id"));
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: crow_core::ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.code, "INTERNAL_ERROR");
    }

    #[test]
    fn request_ids_are_uuids_and_distinct() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| request_id().to_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids.iter().take(10) {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
        }
    }
}
