//! Interaction query routes.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use crow_core::domain::{Bucket, Channel, CountBy, Interaction, InteractionKind, InteractionQuery, Page};
use crow_core::id::InteractionId;
use crow_core::tenancy::Caller;
use crow_core::{ErrorCode, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/counts", get(counts))
        .route("/sessions/{session_id}", get(timeline))
        .route("/{id}", get(one))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Params {
    since: Option<String>,
    until: Option<String>,
    channel: Option<String>,
    kind: Option<String>,
    session_id: Option<String>,
    /// Any of a product's keys: catalogue id, the shop's id, SKU or URL.
    product: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    /// Counts only: `kind` (default) or `product`.
    by: Option<String>,
    /// Counts only: `hour`, `day` or `week` buckets of `occurred_at`; none for totals.
    bucket: Option<String>,
}

fn bad(name: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, format!("invalid `{name}`"))
}

fn time(name: &str, v: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    v.map(|t| {
        t.parse::<i64>()
            .ok()
            .map(Timestamp::from_millis)
            .or_else(|| Timestamp::parse_rfc3339(&t))
            .ok_or_else(|| bad(name))
    })
    .transpose()
}

impl Params {
    fn query(self) -> Result<InteractionQuery, ApiError> {
        Ok(InteractionQuery {
            since: time("since", self.since)?,
            until: time("until", self.until)?,
            channel: self.channel.map(|c| Channel::parse(&c).ok_or_else(|| bad("channel"))).transpose()?,
            kind: self.kind.map(|k| InteractionKind::parse(&k).ok_or_else(|| bad("kind"))).transpose()?,
            session_id: self.session_id,
            product: self.product,
            limit: self.limit,
            cursor: self.cursor,
        })
    }
}

fn params(q: Result<Query<Params>, axum::extract::rejection::QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p).map_err(|e| ApiError::new(ErrorCode::InvalidParameter, e.body_text()))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<Interaction>>, ApiError> {
    let pass = caller.tenant()?;
    Ok(Json(state.backends().interactions.list(&pass, &params(q)?.query()?).await?))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Interaction>, ApiError> {
    let pass = caller.tenant()?;
    let id: InteractionId = id.parse().map_err(|_| bad("id"))?;
    Ok(Json(state.backends().interactions.get(&pass, id).await?))
}

async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let pass = caller.tenant()?;
    let query =
        InteractionQuery { session_id: Some(session_id.clone()), limit: Some(500), ..InteractionQuery::default() };
    let mut items = state.backends().interactions.list(&pass, &query).await?.items;
    items.reverse(); // a timeline reads oldest first
    Ok(Json(json!({ "sessionId": session_id, "interactions": items })))
}

async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let pass = caller.tenant()?;
    let mut p = params(q)?;
    let by = p.by.take().map_or(Some(CountBy::Kind), |b| CountBy::parse(&b)).ok_or_else(|| bad("by"))?;
    let bucket = p.bucket.take().map(|b| Bucket::parse(&b).ok_or_else(|| bad("bucket"))).transpose()?;
    let counts = state.backends().interactions.counts(&pass, &p.query()?, by, bucket.map(Bucket::millis)).await?;
    let mut body = json!({ "by": by.as_str(), "counts": counts });
    if by == CountBy::Kind && bucket.is_none() {
        // Totals per kind also as a map, the shape dashboards read most.
        let by_kind: serde_json::Map<String, Value> =
            counts.iter().map(|c| (c.key.clone(), Value::from(c.count))).collect();
        body["byKind"] = Value::Object(by_kind);
    }
    Ok(Json(body))
}
