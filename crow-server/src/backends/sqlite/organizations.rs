//! Organizations on SQLite.

use async_trait::async_trait;
use crow_core::domain::Organization;
use crow_core::id::OrganizationId;
use crow_core::ports::store::{OrganizationStore, StoreError, StoreResult};
use crow_core::{TenantPass, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::{id_bytes, json_text, store_error};

const COLUMNS: &str = "id, auth_id, name, slug, logo, metadata, allowed_origins, ai_context, created_at, updated_at";

/// SQLite-backed [`OrganizationStore`].
#[derive(Clone, Debug)]
pub struct SqliteOrganizationStore {
    pool: SqlitePool,
}

impl SqliteOrganizationStore {
    /// A store over `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn fetch_by_auth_id(&self, auth_id: &str) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM organizations WHERE auth_id = ?"))
            .bind(auth_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode).transpose()
    }
}

#[async_trait]
impl OrganizationStore for SqliteOrganizationStore {
    async fn create(&self, org: &Organization) -> StoreResult<Organization> {
        let metadata = org.metadata.as_ref().map(json_text).transpose()?;
        let result = sqlx::query(&format!(
            "INSERT INTO organizations ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (auth_id) DO NOTHING"
        ))
        .bind(org.id.as_bytes().as_slice())
        .bind(&org.auth_id)
        .bind(&org.name)
        .bind(&org.slug)
        .bind(&org.logo)
        .bind(metadata)
        .bind(json_text(&org.allowed_origins)?)
        .bind(&org.ai_context)
        .bind(org.created_at.as_millis())
        .bind(org.updated_at.as_millis())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 0 {
            tracing::debug!(auth_id = %org.auth_id, "organization already synced; returning the stored record");
        }
        self.fetch_by_auth_id(&org.auth_id).await?.ok_or(StoreError::NotFound)
    }

    async fn get(&self, pass: &TenantPass) -> StoreResult<Organization> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM organizations WHERE id = ?"))
            .bind(pass.organization_id().as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        decode(&row)
    }

    async fn resolve_auth_id(&self, auth_id: &str) -> StoreResult<OrganizationId> {
        let row = sqlx::query("SELECT id FROM organizations WHERE auth_id = ?")
            .bind(auth_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        id_of(&row, "id")
    }

    async fn update(&self, pass: &TenantPass, org: &Organization) -> StoreResult<Organization> {
        let metadata = org.metadata.as_ref().map(json_text).transpose()?;
        let done = sqlx::query(
            "UPDATE organizations SET name = ?, slug = ?, logo = ?, metadata = ?, allowed_origins = ?, \
             ai_context = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&org.name)
        .bind(&org.slug)
        .bind(&org.logo)
        .bind(metadata)
        .bind(json_text(&org.allowed_origins)?)
        .bind(&org.ai_context)
        .bind(org.updated_at.as_millis())
        // The pass, not the record, decides which row is written.
        .bind(pass.organization_id().as_bytes().as_slice())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.get(pass).await
    }

    async fn delete(&self, pass: &TenantPass) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM organizations WHERE id = ?")
            .bind(pass.organization_id().as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn list_ids(&self) -> StoreResult<Vec<OrganizationId>> {
        let rows =
            sqlx::query("SELECT id FROM organizations ORDER BY id").fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(|r| id_of(r, "id")).collect()
    }
}

fn id_of(row: &SqliteRow, column: &str) -> StoreResult<OrganizationId> {
    id_bytes(row, column).map(OrganizationId::from_bytes)
}

fn decode(row: &SqliteRow) -> StoreResult<Organization> {
    let get_str = |c: &str| -> StoreResult<Option<String>> { row.try_get(c).map_err(store_error) };
    let parse = |c: &str, text: Option<String>| -> StoreResult<Option<serde_json::Value>> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Invalid(format!("{c}: {e}")))).transpose()
    };
    let origins: String = row.try_get("allowed_origins").map_err(store_error)?;
    Ok(Organization {
        id: id_of(row, "id")?,
        auth_id: row.try_get("auth_id").map_err(store_error)?,
        name: row.try_get("name").map_err(store_error)?,
        slug: row.try_get("slug").map_err(store_error)?,
        logo: get_str("logo")?,
        metadata: parse("metadata", get_str("metadata")?)?,
        allowed_origins: serde_json::from_str(&origins)
            .map_err(|e| StoreError::Invalid(format!("allowed_origins: {e}")))?,
        ai_context: get_str("ai_context")?,
        created_at: Timestamp::from_millis(row.try_get("created_at").map_err(store_error)?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at").map_err(store_error)?),
    })
}
