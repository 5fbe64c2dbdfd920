//! Users routes.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use crow_core::ErrorCode;
use crow_core::domain::User;
use crow_core::id::UserId;
use crow_core::tenancy::Caller;
use serde::Deserialize;
use serde_json::{Value, json};

use super::service::MAX_PICTURE_BYTES;
use crate::app::AppState;
use crate::http::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search))
        .route("/me", get(me))
        .route("/by-auth-id/{id}", get(by_auth_id))
        .route("/{id}", get(get_one).patch(update).delete(delete))
        // Pictures get their own, larger body limit (plus slack so the service, not the
        // extractor, answers "too large" with the JSON error).
        .route("/{id}/picture", get(picture).put(set_picture).layer(DefaultBodyLimit::max(MAX_PICTURE_BYTES + 1)))
        .route("/{id}/permissions", get(permissions))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ErrorCode::InvalidParameter, "user id must be a UUID"))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.users().search(&caller, q.q.as_deref()).await?))
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<User>, ApiError> {
    Ok(Json(state.users().me_user(&caller).await?))
}

async fn by_auth_id(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (user, memberships) = state.users().by_auth_id(user_id(&id)?).await?;
    Ok(Json(
        json!({ "user": user, "organizationId": memberships.first().map(|m| m.organization_id), "memberships": memberships }),
    ))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.users().get(&caller, user_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    name: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    patch: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Json<User>, ApiError> {
    let Json(patch) = patch?;
    Ok(Json(state.users().update(&caller, user_id(&id)?, patch.name).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.users().delete(&caller, user_id(&id)?).await?;
    Ok(Json(json!({ "success": true })))
}

async fn set_picture(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<User>, ApiError> {
    let body = body.map_err(|e| ApiError::from_body(&e, "pictures are limited to 2 MiB"))?;
    Ok(Json(state.users().set_picture(&caller, user_id(&id)?, body).await?))
}

async fn picture(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (bytes, kind) = state.users().picture(&caller, user_id(&id)?).await?;
    Ok(([(header::CONTENT_TYPE, kind), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], bytes).into_response())
}

async fn permissions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (role, permissions) = state.users().permissions(&caller, user_id(&id)?).await?;
    Ok(Json(json!({ "role": role, "permissions": permissions })))
}
