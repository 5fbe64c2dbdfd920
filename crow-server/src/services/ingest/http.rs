//! Ingest routes.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use crow_core::tenancy::Caller;

use super::service::{KeyKind, MAX_BODY_BYTES};
use crate::app::AppState;
use crate::http::ApiError;
use crate::http::credentials::api_key;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", post(events).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
}

fn key_kind(headers: &HeaderMap) -> KeyKind {
    match api_key(headers) {
        Some(k) if k.starts_with("crow_pk_") => KeyKind::Publishable,
        Some(k) if k.starts_with("crow_") => KeyKind::Secret,
        _ => KeyKind::None,
    }
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body =
        body.map_err(|e| ApiError::from_body(&e, format!("a batch is limited to {} KiB", MAX_BODY_BYTES / 1024)))?;
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let receipt = state.ingest().ingest(&caller, origin, key_kind(&headers), &body).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)).into_response())
}
