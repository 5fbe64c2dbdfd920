//! Liveness and readiness probes, for the process and for each service.
//!
//! `/health` says the process answers; `/ready` checks the backends (the database answers a
//! query) and turns 503 once shutdown has begun, so a load balancer stops sending traffic
//! before connections are drained.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use crow_core::api::{Check, Health, Ready};

use crate::app::AppState;
use crate::services::ServiceName;

fn health_of(service: &str) -> Json<Health> {
    Json(Health { status: "ok".into(), service: service.into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// `GET /health` of the process.
pub async fn health() -> Json<Health> {
    health_of("crow-server")
}

/// `GET /ready` of the process.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let mut checks = state.backends().checks().await;
    checks.push(Check {
        name: "accepting".into(),
        ok: !state.is_shutting_down(),
        error: state.is_shutting_down().then(|| "shutting down".into()),
    });
    let ok = checks.iter().all(|c| c.ok);
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Ready { status: if ok { "ready" } else { "not_ready" }.into(), checks }))
}

/// `/health` and `/ready` of one service, mounted under its `/api/v1/{segment}`.
pub fn service_routes(service: ServiceName) -> Router<AppState> {
    Router::new().route("/health", get(move || async move { health_of(service.as_str()) })).route("/ready", get(ready))
}
