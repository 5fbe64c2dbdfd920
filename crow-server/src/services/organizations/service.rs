//! Organization logic over the ports.

use std::sync::Arc;

use crow_core::api::auth::{MemberUser, MemberView};
use crow_core::domain::Organization;
use crow_core::ports::ai::StructuredExtractor;
use crow_core::ports::auth::AuthStore;
use crow_core::ports::clock::Clock;
use crow_core::ports::store::{OrganizationStore, StoreError};
use crow_core::tenancy::{Caller, Role};
use crow_core::{ErrorCode, OrganizationId};
use serde::Deserialize;

use crate::http::ApiError;
use crate::http::origins::Pattern;

/// Editable fields; absent ones keep their value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationPatch {
    /// Display name.
    pub name: Option<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Free-form JSON.
    pub metadata: Option<serde_json::Value>,
    /// Origins allowed to send tracker events with the organization's publishable keys.
    pub allowed_origins: Option<Vec<String>>,
}

/// The organizations service.
#[derive(Clone)]
pub struct Organizations {
    store: Arc<dyn OrganizationStore>,
    auth: Arc<dyn AuthStore>,
    extractor: Arc<dyn StructuredExtractor>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Organizations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Organizations")
    }
}

impl Organizations {
    /// Wires the service.
    pub fn new(
        store: Arc<dyn OrganizationStore>,
        auth: Arc<dyn AuthStore>,
        extractor: Arc<dyn StructuredExtractor>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, auth, extractor, clock }
    }

    /// `GET /by-auth-id/{id}`: the gateway's organization resolution (no tenant yet, so no pass).
    pub async fn by_auth_id(&self, auth_id: &str) -> Result<OrganizationId, ApiError> {
        Ok(self.store.resolve_auth_id(auth_id).await?)
    }

    /// `GET /{id}`.
    pub async fn get(&self, caller: &Caller, id: OrganizationId) -> Result<Organization, ApiError> {
        let pass = caller.authorize(id)?;
        Ok(self.store.get(&pass).await?)
    }

    /// `PATCH /{id}` (admins and owners).
    pub async fn update(
        &self,
        caller: &Caller,
        id: OrganizationId,
        patch: OrganizationPatch,
    ) -> Result<Organization, ApiError> {
        let pass = caller.authorize_role(id, Role::Admin)?;
        let mut org = self.store.get(&pass).await?;
        if let Some(name) = patch.name {
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err(ApiError::new(ErrorCode::ValidationFailed, "name must be 1-200 characters"));
            }
            org.name = name.trim().to_owned();
        }
        if let Some(origins) = patch.allowed_origins {
            if origins.len() > 50 {
                return Err(ApiError::new(ErrorCode::ValidationFailed, "at most 50 allowed origins"));
            }
            if let Some(bad) = origins.iter().find(|o| Pattern::parse(o).is_none()) {
                return Err(ApiError::new(
                    ErrorCode::ValidationFailed,
                    format!("`{bad:.100}` is not an origin such as https://shop.example.com"),
                ));
            }
            org.allowed_origins = origins.iter().map(|o| o.trim().trim_end_matches('/').to_lowercase()).collect();
        }
        if patch.logo.is_some() {
            org.logo = patch.logo;
        }
        if patch.metadata.is_some() {
            org.metadata = patch.metadata;
        }
        org.updated_at = self.clock.now();
        Ok(self.store.update(&pass, &org).await?)
    }

    /// `DELETE /{id}` (owners): the organization and, by cascade, all its data.
    pub async fn delete(&self, caller: &Caller, id: OrganizationId) -> Result<(), ApiError> {
        let pass = caller.authorize_role(id, Role::Owner)?;
        self.store.delete(&pass).await?;
        match self.auth.delete_organization(id).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /{id}/members`.
    pub async fn members(&self, caller: &Caller, id: OrganizationId) -> Result<Vec<MemberView>, ApiError> {
        caller.authorize(id)?;
        let members = self.auth.list_members(id).await?;
        Ok(members
            .into_iter()
            .map(|(m, u)| MemberView {
                id: m.id,
                organization_id: m.organization_id,
                user_id: m.user_id,
                role: m.role,
                created_at: m.created_at,
                user: Some(MemberUser { id: u.id, name: u.name, email: u.email }),
            })
            .collect())
    }

    /// `POST /{id}/context` (admins and owners): builds the AI context analysts and the chat
    /// agent receive, through the extractor port, from the organization's own fields. (Products
    /// join the input once the catalogue exists.)
    pub async fn build_context(&self, caller: &Caller, id: OrganizationId) -> Result<Organization, ApiError> {
        let pass = caller.authorize_role(id, Role::Admin)?;
        let mut org = self.store.get(&pass).await?;
        let mut input = format!("{} ({}).", org.name, org.slug);
        if let Some(meta) = &org.metadata {
            input.push(' ');
            input.push_str(&flatten(meta));
        }
        if !org.allowed_origins.is_empty() {
            input.push_str(&format!(" Web shops: {}.", org.allowed_origins.join(", ")));
        }
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "summary": { "type": "string", "maxLength": 600 },
                "keywords": { "type": "array", "maxItems": 10 }
            }
        });
        let out = self
            .extractor
            .extract("Summarise this organization for analysts of its customer interactions.", &input, &schema)
            .await
            .map_err(|e| ApiError::internal("AI context extraction failed", &e))?;
        let summary = out["summary"].as_str().unwrap_or_default();
        let keywords: Vec<&str> =
            out["keywords"].as_array().map(|a| a.iter().filter_map(|k| k.as_str()).collect()).unwrap_or_default();
        org.ai_context = Some(if keywords.is_empty() {
            summary.to_owned()
        } else {
            format!("{summary}\nKeywords: {}", keywords.join(", "))
        });
        org.updated_at = self.clock.now();
        match self.store.update(&pass, &org).await {
            Err(StoreError::NotFound) => Err(ApiError::new(ErrorCode::NotFound, "organization not found")),
            other => Ok(other?),
        }
    }
}

/// A JSON value as sentences of `key: value`, for the extractor's input.
fn flatten(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}: {}.", flatten(v))).collect::<Vec<_>>().join(" ")
        }
        serde_json::Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(", "),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
