//! The `Caller` extractor: the one place a `Caller` is built for service routes.
//!
//! Service routes sit behind the `X-Internal-Key` guard, so everything here arrived through the
//! gateway (or another CROW service). A user request carries `Authorization: Bearer <jwt>`,
//! verified with the shared verifier (EdDSA only); the caller's user, organization and role come
//! from its claims, and a gateway-injected `X-Organization-Id` must agree with them. A request
//! without a user JWT is a service-to-service call: its organization is the gateway-set
//! `X-Organization-Id`, trusted only because the internal key was verified first.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use crow_core::tenancy::{Caller, Principal, Role};
use crow_core::{ErrorCode, OrganizationId};

use super::ApiError;
use super::names::X_ORGANIZATION_ID;
use crate::app::AppState;

fn unauthorized(reason: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, reason)
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Every client-sent copy of the tenant header would have been stripped by the gateway;
        // more than one copy here means something bypassed it.
        if parts.headers.get_all(X_ORGANIZATION_ID).iter().count() > 1 {
            return Err(ApiError::new(ErrorCode::BadRequest, "more than one X-Organization-Id"));
        }
        // Likewise the credential: the gateway replaces the client's, never adds a second one.
        if parts.headers.get_all(header::AUTHORIZATION).iter().count() > 1 {
            return Err(ApiError::new(ErrorCode::BadRequest, "more than one Authorization header"));
        }
        let header_org = header_str(parts, X_ORGANIZATION_ID.as_str())
            .map(|v| v.parse::<OrganizationId>().map_err(|_| unauthorized("malformed X-Organization-Id")))
            .transpose()?;
        let bearer = header_str(parts, header::AUTHORIZATION.as_str())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| !t.starts_with("crow_"));
        let Some(token) = bearer else {
            let name = header_str(parts, "x-service-name").unwrap_or("internal").chars().take(64).collect();
            return Ok(Caller::from_verified(Principal::Service { name }, header_org, None));
        };
        let claims = state.verifier().verify(token, state.backends().clock.now()).await.map_err(|e| {
            tracing::debug!(reason = %e, "bearer token refused");
            unauthorized("invalid or expired token")
        })?;
        let user_id = claims.sub.parse().map_err(|_| unauthorized("token subject is not a user"))?;
        let org = claims
            .organization_id
            .as_deref()
            .map(|o| o.parse::<OrganizationId>().map_err(|_| unauthorized("malformed organization claim")))
            .transpose()?;
        if header_org.is_some() && header_org != org {
            return Err(ApiError::new(ErrorCode::Forbidden, "X-Organization-Id does not match the credential"));
        }
        let role = claims.role.as_deref().and_then(Role::parse);
        Ok(Caller::from_verified(Principal::User { user_id }, org, role))
    }
}
