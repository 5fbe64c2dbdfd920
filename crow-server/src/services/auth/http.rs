//! The auth service's routes, wire-compatible with Better Auth's REST API for the routes CROW
//! serves: same paths, JSON shapes, cookie name and status codes, so a Better Auth client works
//! unchanged against `crow-server`.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use crow_core::ErrorCode;
use crow_core::domain::{ApiKey, AuthOrganization, Invitation, Member, User};
use crow_core::id::{ApiKeyId, InvitationId, OrganizationId};
use crow_core::tenancy::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use super::onboarding::StepInput;
use super::service::{AuthError, Authenticated, NewKey, SESSION_TTL_MS, SignedIn};
use super::tokens::{self, SESSION_COOKIE};
use crate::app::AppState;
use crate::http::ApiError;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Refused { code, message } => ApiError::new(code, message),
            AuthError::Overloaded => {
                ApiError::new(ErrorCode::ServiceUnavailable, "too many sign-ins at once; retry shortly")
                    .retry_after(std::time::Duration::from_secs(1))
            }
            other => ApiError::internal("auth operation failed", &other),
        }
    }
}

type ApiResult<T = Response> = Result<T, ApiError>;

/// The auth routes (mounted under `/api/v1/auth` and `/api/v1/better-auth`).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/sign-up/email", post(sign_up))
        .route("/sign-in/email", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/get-session", get(get_session))
        .route("/token", get(token))
        .route("/jwks", get(jwks))
        .route("/organization/create", post(create_organization))
        .route("/organization/list", get(list_organizations))
        .route("/organization/set-active", post(set_active))
        .route("/organization/list-members", get(list_members))
        .route("/organization/invite-member", post(invite_member))
        .route("/organization/accept-invitation", post(accept_invitation))
        .route("/organization/remove-member", post(remove_member))
        .route("/api-key/create", post(create_api_key))
        .route("/api-key/list", get(list_api_keys))
        .route("/api-key/delete", post(delete_api_key))
        .route("/api-key/update", post(update_api_key))
        .route("/api-key/verify", post(verify_api_key))
        .route("/api-key/system-token", post(system_token))
        .route("/onboarding", get(get_onboarding))
        .route("/onboarding/start", post(start_onboarding))
        .route("/onboarding/step", post(onboarding_step))
        .route("/onboarding/abandon", post(abandon_onboarding))
        .route("/team-invitations", get(team_invitations))
        .route("/team-invitations/mine", get(my_invitations))
        .route("/team-invitations/cancel", post(cancel_invitation))
        .route("/team-invitations/accept", post(accept_invitation))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf_guard))
}

/// CSRF: a state-changing request from a browser (it carries our cookie, or an `Origin`) must
/// come from a trusted origin. Requests with neither (servers, CLIs) have no ambient credentials
/// to abuse and pass.
async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let has_cookie = tokens::session_from_cookies(cookie_headers(headers)).is_some();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(origin_of));
    let ok = match (origin, has_cookie) {
        (None, false) => true,
        (None, true) => false,
        (Some(o), _) => state.trusted_origins().is_trusted(&o),
    };
    if ok { next.run(request).await } else { ApiError::new(ErrorCode::InvalidOrigin, "Invalid origin").into_response() }
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok())
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    tokens::session_from_cookies(cookie_headers(headers)).or_else(|| {
        // Better Auth's bearer plugin: `Authorization: Bearer <session token>`; API keys and
        // JWTs are not session tokens and are ignored here.
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| !t.starts_with("crow_") && t.matches('.').count() == 0)
            .map(str::to_owned)
    })
}

async fn require_session(state: &AppState, headers: &HeaderMap) -> ApiResult<Authenticated> {
    let token = session_token(headers).ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "Unauthorized"))?;
    state.auth().authenticate(&token).await?.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "Unauthorized"))
}

/// Better Auth answers a body of the wrong shape with 400, so auth routes do too (other
/// services use 422 for that).
fn body<T>(payload: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    payload.map(|Json(v)| v).map_err(|e| match e {
        JsonRejection::JsonDataError(d) => ApiError::new(ErrorCode::InvalidJson, d.body_text()),
        other => ApiError::from(other),
    })
}

fn set_cookie(state: &AppState, response: &mut Response, token: &str, max_age_secs: i64) {
    let c = state.cookie_settings();
    let mut cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Max-Age={max_age_secs}; SameSite={}",
        match c.cookie_same_site {
            crate::config::SameSite::Lax => "Lax",
            crate::config::SameSite::Strict => "Strict",
            crate::config::SameSite::None => "None",
        }
    );
    if c.cookie_secure {
        cookie.push_str("; Secure");
    }
    if let Some(domain) = &c.cookie_domain {
        cookie.push_str("; Domain=");
        cookie.push_str(domain);
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn with_session_cookie(state: &AppState, body: Value, token: &str) -> Response {
    let mut response = Json(body).into_response();
    set_cookie(state, &mut response, token, SESSION_TTL_MS / 1000);
    response
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn session_json(auth: &Authenticated) -> Value {
    let s = &auth.session;
    json!({
        "id": s.id, "token": auth.token, "userId": s.user_id, "expiresAt": s.expires_at,
        "activeOrganizationId": s.active_organization_id, "ipAddress": s.ip_address,
        "userAgent": s.user_agent, "createdAt": s.created_at, "updatedAt": s.updated_at,
    })
}

fn member_json(m: &Member, user: Option<&User>) -> Value {
    let mut v = json!({
        "id": m.id, "organizationId": m.organization_id, "userId": m.user_id,
        "role": m.role.as_str(), "createdAt": m.created_at,
    });
    if let Some(u) = user {
        v["user"] = json!({ "id": u.id, "name": u.name, "email": u.email, "image": u.image });
    }
    v
}

fn organization_json(org: &AuthOrganization, members: &[(Member, Option<&User>)]) -> Value {
    let mut v = to_value(org);
    v["members"] = Value::Array(members.iter().map(|(m, u)| member_json(m, *u)).collect());
    v
}

fn invitation_json(i: &Invitation) -> Value {
    let mut v = to_value(i);
    v["role"] = Value::String(i.role.as_str().to_owned());
    v
}

fn api_key_json(k: &ApiKey) -> Value {
    let mut v = to_value(k);
    // Better Auth 1.7 names the owner `referenceId` (keys can belong to users or organizations).
    v["referenceId"] = to_value(&k.user_id);
    v["configId"] = Value::String("default".into());
    v
}

fn parse_role(role: Option<&str>) -> ApiResult<Role> {
    let text = role.unwrap_or("member");
    match Role::parse(text) {
        Some(role) => Ok(role),
        None => Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("unknown role `{text}`; use member, admin or owner"),
        )),
    }
}

fn parse_org(id: Option<&str>) -> ApiResult<Option<OrganizationId>> {
    id.map(|s| s.parse().map_err(|_| ApiError::new(ErrorCode::OrganizationNotFound, "Organization not found")))
        .transpose()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    name: String,
    email: String,
    password: String,
    image: Option<String>,
}

async fn sign_up(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    payload: Result<Json<SignUpBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    state.check_auth_rate(peer)?;
    let SignedIn { user, token, .. } = state
        .auth()
        .sign_up(&b.name, &b.email, b.password, b.image, Some(peer.ip().to_string()), user_agent(&headers))
        .await?;
    Ok(with_session_cookie(&state, json!({ "token": token, "user": user }), &token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInBody {
    email: String,
    password: String,
    callback_url: Option<String>,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    payload: Result<Json<SignInBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    state.check_auth_rate(peer)?;
    let SignedIn { user, token, .. } =
        state.auth().sign_in(&b.email, b.password, Some(peer.ip().to_string()), user_agent(&headers)).await?;
    let redirect = b.callback_url.is_some();
    Ok(with_session_cookie(
        &state,
        json!({ "redirect": redirect, "token": token, "url": b.callback_url, "user": user }),
        &token,
    ))
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    if let Some(token) = session_token(&headers)
        && let Some(auth) = state.auth().authenticate(&token).await?
    {
        state.auth().sign_out(&auth).await?;
    }
    let mut response = Json(json!({ "success": true })).into_response();
    set_cookie(&state, &mut response, "", 0);
    Ok(response)
}

async fn get_session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let Some(token) = session_token(&headers) else {
        return Ok(Json(Value::Null).into_response());
    };
    let Some(auth) = state.auth().authenticate(&token).await? else {
        return Ok(Json(Value::Null).into_response());
    };
    let body = json!({ "session": session_json(&auth), "user": auth.user });
    Ok(if auth.refreshed { with_session_cookie(&state, body, &auth.token) } else { Json(body).into_response() })
}

async fn token(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    Ok(Json(json!({ "token": state.auth().token(&auth).await? })).into_response())
}

async fn jwks(State(state): State<AppState>) -> ApiResult {
    let keys = state.auth().keys().jwks().await.map_err(|e| ApiError::internal("cannot read JWKS", &e))?;
    Ok(Json(keys).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateOrgBody {
    name: String,
    slug: String,
    logo: Option<String>,
    metadata: Option<Value>,
    #[serde(default)]
    keep_current_active_organization: bool,
}

async fn create_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<CreateOrgBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let (org, owner) = state
        .auth()
        .create_organization(&auth, &b.name, &b.slug, b.logo, b.metadata, b.keep_current_active_organization)
        .await?;
    Ok(Json(organization_json(&org, &[(owner, Some(&auth.user))])).into_response())
}

async fn list_organizations(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    Ok(Json(state.auth().list_organizations(&auth).await?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetActiveBody {
    organization_id: Option<String>,
}

async fn set_active(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<SetActiveBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let result = state.auth().set_active(&auth, parse_org(b.organization_id.as_deref())?).await?;
    Ok(match result {
        None => Json(Value::Null).into_response(),
        Some((org, members)) => {
            let members: Vec<_> = members.iter().map(|(m, u)| (m.clone(), Some(u))).collect();
            let mut v = organization_json(&org, &members);
            v["invitations"] = json!([]);
            Json(v).into_response()
        }
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrgQuery {
    organization_id: Option<String>,
}

async fn list_members(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<OrgQuery>) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    let members = state.auth().list_members(&auth, parse_org(q.organization_id.as_deref())?).await?;
    let list: Vec<Value> = members.iter().map(|(m, u)| member_json(m, Some(u))).collect();
    Ok(Json(json!({ "members": list, "total": members.len() })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteBody {
    email: String,
    role: Option<String>,
    organization_id: Option<String>,
}

async fn invite_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<InviteBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let invitation = state
        .auth()
        .invite(&auth, &b.email, parse_role(b.role.as_deref())?, parse_org(b.organization_id.as_deref())?)
        .await?;
    Ok(Json(invitation_json(&invitation)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvitationBody {
    invitation_id: String,
}

async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<InvitationBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let id: InvitationId =
        b.invitation_id.parse().map_err(|_| ApiError::new(ErrorCode::InvitationNotFound, "Invitation not found"))?;
    let (invitation, member) = state.auth().accept_invitation(&auth, id).await?;
    Ok(Json(json!({ "invitation": invitation_json(&invitation), "member": member_json(&member, None) }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveMemberBody {
    member_id_or_email: String,
    organization_id: Option<String>,
}

async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<RemoveMemberBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let member =
        state.auth().remove_member(&auth, &b.member_id_or_email, parse_org(b.organization_id.as_deref())?).await?;
    Ok(Json(json!({ "member": member_json(&member, None) })).into_response())
}

async fn create_api_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<NewKey>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let (key, secret) = state.auth().create_api_key(&auth, b).await?;
    let mut v = api_key_json(&key);
    v["key"] = Value::String(secret);
    Ok(Json(v).into_response())
}

async fn list_api_keys(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    let keys = state.auth().list_api_keys(&auth).await?;
    let list: Vec<Value> = keys.iter().map(api_key_json).collect();
    Ok(Json(json!({ "apiKeys": list, "total": keys.len(), "limit": Value::Null, "offset": Value::Null }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteKeyBody {
    key_id: String,
}

async fn delete_api_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<DeleteKeyBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let id: ApiKeyId = b.key_id.parse().map_err(|_| ApiError::new(ErrorCode::KeyNotFound, "API key not found"))?;
    state.auth().delete_api_key(&auth, id).await?;
    Ok(Json(json!({ "success": true })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateKeyBody {
    key_id: String,
    name: Option<String>,
    enabled: Option<bool>,
}

async fn update_api_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<UpdateKeyBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let id: ApiKeyId = b.key_id.parse().map_err(|_| ApiError::new(ErrorCode::KeyNotFound, "API key not found"))?;
    let key = state.auth().update_api_key(&auth, id, b.name, b.enabled).await?;
    Ok(Json(api_key_json(&key)).into_response())
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

async fn verify_api_key(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    payload: Result<Json<KeyBody>, JsonRejection>,
) -> ApiResult {
    state.require_service_key(&headers)?;
    state.check_auth_rate(peer)?;
    let b = body(payload)?;
    Ok(Json(state.auth().verify_api_key(&b.key).await?).into_response())
}

async fn system_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    payload: Result<Json<KeyBody>, JsonRejection>,
) -> ApiResult {
    state.require_service_key(&headers)?;
    state.check_auth_rate(peer)?;
    let b = body(payload)?;
    Ok(Json(json!({ "token": state.auth().system_token(&b.key).await? })).into_response())
}

async fn get_onboarding(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    Ok(Json(state.auth().onboarding(&auth).await?).into_response())
}

async fn start_onboarding(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    Ok(Json(state.auth().start_onboarding(&auth).await?).into_response())
}

async fn onboarding_step(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<StepInput>, JsonRejection>,
) -> ApiResult {
    let input = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    Ok(Json(state.auth().onboarding_step(&auth, &input).await?).into_response())
}

async fn abandon_onboarding(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    Ok(Json(state.auth().abandon_onboarding(&auth).await?).into_response())
}

async fn team_invitations(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    let list: Vec<Value> = state.auth().team_invitations(&auth).await?.iter().map(invitation_json).collect();
    Ok(Json(list).into_response())
}

async fn my_invitations(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let auth = require_session(&state, &headers).await?;
    let list: Vec<Value> = state.auth().my_invitations(&auth).await?.iter().map(invitation_json).collect();
    Ok(Json(list).into_response())
}

async fn cancel_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<InvitationBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let auth = require_session(&state, &headers).await?;
    let id: InvitationId =
        b.invitation_id.parse().map_err(|_| ApiError::new(ErrorCode::InvitationNotFound, "Invitation not found"))?;
    state.auth().cancel_invitation(&auth, id).await?;
    Ok(Json(json!({ "success": true })).into_response())
}
