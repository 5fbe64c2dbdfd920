//! Organizations routes.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use crow_core::api::auth::MemberView;
use crow_core::domain::Organization;
use crow_core::tenancy::Caller;
use crow_core::{ErrorCode, OrganizationId};
use serde_json::{Value, json};

use super::service::OrganizationPatch;
use crate::app::AppState;
use crate::http::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/by-auth-id/{auth_id}", get(by_auth_id))
        .route("/{id}", get(get_one).patch(update).delete(delete))
        .route("/{id}/members", get(members))
        .route("/{id}/context", post(build_context))
}

fn org_id(raw: &str) -> Result<OrganizationId, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ErrorCode::InvalidParameter, "organization id must be a UUID"))
}

async fn by_auth_id(State(state): State<AppState>, Path(auth_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = state.organizations().by_auth_id(&auth_id).await?;
    Ok(Json(json!({ "id": id, "authId": auth_id })))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Organization>, ApiError> {
    Ok(Json(state.organizations().get(&caller, org_id(&id)?).await?))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    patch: Result<Json<OrganizationPatch>, JsonRejection>,
) -> Result<Json<Organization>, ApiError> {
    let Json(patch) = patch?;
    Ok(Json(state.organizations().update(&caller, org_id(&id)?, patch).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.organizations().delete(&caller, org_id(&id)?).await?;
    Ok(Json(json!({ "success": true })))
}

async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(state.organizations().members(&caller, org_id(&id)?).await?))
}

async fn build_context(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Organization>, ApiError> {
    Ok(Json(state.organizations().build_context(&caller, org_id(&id)?).await?))
}
