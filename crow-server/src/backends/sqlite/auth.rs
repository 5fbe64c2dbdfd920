//! The auth store on SQLite.

use async_trait::async_trait;
use bytes::Bytes;
use crow_core::Timestamp;
use crow_core::domain::{
    Account, ApiKey, ApiKeyKind, AuthOrganization, Invitation, InvitationStatus, Member, Onboarding, OnboardingStatus,
    Session, User,
};
use crow_core::id::{ApiKeyId, InvitationId, JwksKeyId, MemberId, OrganizationId, SessionId, UserId};
use crow_core::ports::auth::{AuthStore, KeyUse, StoredSigningKey, TokenHash};
use crow_core::ports::store::{StoreError, StoreResult};
use crow_core::tenancy::Role;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::{id_bytes, json_text, store_error};

/// SQLite-backed [`AuthStore`].
#[derive(Clone, Debug)]
pub struct SqliteAuthStore {
    pool: SqlitePool,
}

impl SqliteAuthStore {
    /// A store over `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

const USER_COLUMNS: &str =
    "u.id, u.name, u.email, u.email_verified, u.image, u.is_anonymous, u.created_at, u.updated_at";
const SESSION_COLUMNS: &str = "s.id AS s_id, s.user_id AS s_user_id, s.expires_at, s.active_organization_id, s.ip_address, s.user_agent, s.created_at AS s_created_at, s.updated_at AS s_updated_at";
const KEY_COLUMNS: &str = "id, name, start, prefix, kind, user_id, organization_id, enabled, rate_limit_enabled, \
     rate_limit_time_window, rate_limit_max, request_count, remaining, expires_at, permissions, metadata, created_at, updated_at";

fn ts(row: &SqliteRow, c: &str) -> StoreResult<Timestamp> {
    row.try_get::<i64, _>(c).map(Timestamp::from_millis).map_err(store_error)
}

fn opt_ts(row: &SqliteRow, c: &str) -> StoreResult<Option<Timestamp>> {
    row.try_get::<Option<i64>, _>(c).map(|v| v.map(Timestamp::from_millis)).map_err(store_error)
}

fn opt_id(row: &SqliteRow, c: &str) -> StoreResult<Option<[u8; 16]>> {
    let v: Option<Vec<u8>> = row.try_get(c).map_err(store_error)?;
    v.map(|b| b.try_into().map_err(|_| StoreError::Invalid(format!("{c} is not a 16-byte id")))).transpose()
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    c: &str,
) -> StoreResult<T> {
    row.try_get(c).map_err(store_error)
}

fn json_opt(row: &SqliteRow, c: &str) -> StoreResult<Option<serde_json::Value>> {
    let text: Option<String> = get(row, c)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Invalid(format!("{c}: {e}")))).transpose()
}

fn to_json(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(serde_json::Value::to_string)
}

fn role(row: &SqliteRow) -> StoreResult<Role> {
    let text: String = get(row, "role")?;
    Role::parse(&text).ok_or_else(|| StoreError::Invalid(format!("role {text}")))
}

fn user(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_bytes(id_bytes(row, "id")?),
        name: get(row, "name")?,
        email: get(row, "email")?,
        email_verified: get(row, "email_verified")?,
        image: get(row, "image")?,
        is_anonymous: get(row, "is_anonymous")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn session(row: &SqliteRow) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_bytes(id_bytes(row, "s_id")?),
        user_id: UserId::from_bytes(id_bytes(row, "s_user_id")?),
        expires_at: ts(row, "expires_at")?,
        active_organization_id: opt_id(row, "active_organization_id")?.map(OrganizationId::from_bytes),
        ip_address: get(row, "ip_address")?,
        user_agent: get(row, "user_agent")?,
        created_at: ts(row, "s_created_at")?,
        updated_at: ts(row, "s_updated_at")?,
    })
}

fn organization(row: &SqliteRow) -> StoreResult<AuthOrganization> {
    Ok(AuthOrganization {
        id: OrganizationId::from_bytes(id_bytes(row, "id")?),
        name: get(row, "name")?,
        slug: get(row, "slug")?,
        logo: get(row, "logo")?,
        metadata: json_opt(row, "metadata")?,
        created_at: ts(row, "created_at")?,
    })
}

fn member(row: &SqliteRow) -> StoreResult<Member> {
    Ok(Member {
        id: MemberId::from_bytes(id_bytes(row, "m_id")?),
        organization_id: OrganizationId::from_bytes(id_bytes(row, "m_organization_id")?),
        user_id: UserId::from_bytes(id_bytes(row, "m_user_id")?),
        role: role(row)?,
        created_at: ts(row, "m_created_at")?,
    })
}

const INVITATION_COLUMNS: &str = "id, organization_id, email, role, status, expires_at, inviter_id, created_at";

const MEMBER_COLUMNS: &str = "m.id AS m_id, m.organization_id AS m_organization_id, m.user_id AS m_user_id, m.role, m.created_at AS m_created_at";

fn invitation(row: &SqliteRow) -> StoreResult<Invitation> {
    let status: String = get(row, "status")?;
    Ok(Invitation {
        id: InvitationId::from_bytes(id_bytes(row, "id")?),
        organization_id: OrganizationId::from_bytes(id_bytes(row, "organization_id")?),
        email: get(row, "email")?,
        role: role(row)?,
        status: match status.as_str() {
            "pending" => InvitationStatus::Pending,
            "accepted" => InvitationStatus::Accepted,
            "rejected" => InvitationStatus::Rejected,
            "canceled" => InvitationStatus::Canceled,
            other => return Err(StoreError::Invalid(format!("invitation status {other}"))),
        },
        expires_at: ts(row, "expires_at")?,
        inviter_id: UserId::from_bytes(id_bytes(row, "inviter_id")?),
        created_at: ts(row, "created_at")?,
    })
}

fn api_key(row: &SqliteRow) -> StoreResult<ApiKey> {
    let kind: String = get(row, "kind")?;
    Ok(ApiKey {
        id: ApiKeyId::from_bytes(id_bytes(row, "id")?),
        name: get(row, "name")?,
        start: get(row, "start")?,
        prefix: get(row, "prefix")?,
        kind: if kind == "publishable" { ApiKeyKind::Publishable } else { ApiKeyKind::Secret },
        user_id: UserId::from_bytes(id_bytes(row, "user_id")?),
        organization_id: opt_id(row, "organization_id")?.map(OrganizationId::from_bytes),
        enabled: get(row, "enabled")?,
        rate_limit_enabled: get(row, "rate_limit_enabled")?,
        rate_limit_time_window: get(row, "rate_limit_time_window")?,
        rate_limit_max: get(row, "rate_limit_max")?,
        request_count: get(row, "request_count")?,
        remaining: get(row, "remaining")?,
        expires_at: opt_ts(row, "expires_at")?,
        permissions: json_opt(row, "permissions")?,
        metadata: json_opt(row, "metadata")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl AuthStore for SqliteAuthStore {
    async fn create_user(&self, u: &User, account: &Account, password_hash: &str) -> StoreResult<()> {
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        sqlx::query(
            "INSERT INTO users (id, name, email, email_verified, image, is_anonymous, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id.as_bytes().as_slice())
        .bind(&u.name)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.image)
        .bind(u.is_anonymous)
        .bind(u.created_at.as_millis())
        .bind(u.updated_at.as_millis())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO accounts (id, account_id, provider_id, user_id, password_hash, scope, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account.id.as_bytes().as_slice())
        .bind(&account.account_id)
        .bind(&account.provider_id)
        .bind(u.id.as_bytes().as_slice())
        .bind(password_hash)
        .bind(&account.scope)
        .bind(account.created_at.as_millis())
        .bind(account.updated_at.as_millis())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn find_credentials(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, a.password_hash FROM users u \
             LEFT JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' WHERE u.email = ?"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|r| Ok((user(&r)?, get(&r, "password_hash")?))).transpose()
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?"))
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        user(&row)
    }

    async fn update_user(
        &self,
        id: UserId,
        name: Option<String>,
        image: Option<String>,
        now: Timestamp,
    ) -> StoreResult<User> {
        let done = sqlx::query(
            "UPDATE users SET name = COALESCE(?, name), image = COALESCE(?, image), updated_at = ? WHERE id = ?",
        )
        .bind(name)
        .bind(image)
        .bind(now.as_millis())
        .bind(id.as_bytes().as_slice())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.get_user(id).await
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn create_session(&self, s: &Session, token_hash: &TokenHash) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, expires_at, active_organization_id, ip_address, user_agent, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.id.as_bytes().as_slice())
        .bind(token_hash.as_slice())
        .bind(s.user_id.as_bytes().as_slice())
        .bind(s.expires_at.as_millis())
        .bind(s.active_organization_id.map(|o| o.as_bytes().to_vec()))
        .bind(&s.ip_address)
        .bind(&s.user_agent)
        .bind(s.created_at.as_millis())
        .bind(s.updated_at.as_millis())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &TokenHash) -> StoreResult<Option<(Session, User)>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"
        ))
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|r| Ok((session(&r)?, user(&r)?))).transpose()
    }

    async fn extend_session(&self, id: SessionId, expires_at: Timestamp, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET expires_at = ?, updated_at = ? WHERE id = ?")
            .bind(expires_at.as_millis())
            .bind(now.as_millis())
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn set_active_organization(
        &self,
        id: SessionId,
        org: Option<OrganizationId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET active_organization_id = ?, updated_at = ? WHERE id = ?")
            .bind(org.map(|o| o.as_bytes().to_vec()))
            .bind(now.as_millis())
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn create_organization(
        &self,
        org: &AuthOrganization,
        owner: &Member,
        topic: &str,
        message: Bytes,
    ) -> StoreResult<()> {
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        sqlx::query(
            "INSERT INTO auth_organizations (id, name, slug, logo, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(org.id.as_bytes().as_slice())
        .bind(&org.name)
        .bind(&org.slug)
        .bind(&org.logo)
        .bind(to_json(&org.metadata))
        .bind(org.created_at.as_millis())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        insert_member(&mut tx, owner).await?;
        // The transactional outbox: the sync message commits with the organization or not at all.
        // It lands in the durable queue's table, so the queue delivers it like any publish.
        sqlx::query("INSERT INTO queue_messages (topic, payload, available_at, published_at) VALUES (?, ?, ?, ?)")
            .bind(topic)
            .bind(message.as_ref())
            .bind(org.created_at.as_millis())
            .bind(org.created_at.as_millis())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn delete_organization(&self, id: OrganizationId) -> StoreResult<()> {
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        // Sessions pointing at it lose their active organization rather than dangle.
        sqlx::query("UPDATE sessions SET active_organization_id = NULL WHERE active_organization_id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let done = sqlx::query("DELETE FROM auth_organizations WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(store_error)
    }

    async fn get_organization(&self, id: OrganizationId) -> StoreResult<AuthOrganization> {
        let row = sqlx::query("SELECT id, name, slug, logo, metadata, created_at FROM auth_organizations WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        organization(&row)
    }

    async fn list_organizations(&self, user_id: UserId) -> StoreResult<Vec<AuthOrganization>> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, o.slug, o.logo, o.metadata, o.created_at FROM auth_organizations o \
             JOIN members m ON m.organization_id = o.id WHERE m.user_id = ? ORDER BY o.created_at, o.id",
        )
        .bind(user_id.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(organization).collect()
    }

    async fn find_member(&self, org: OrganizationId, user_id: UserId) -> StoreResult<Option<Member>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members m WHERE m.organization_id = ? AND m.user_id = ?"
        ))
        .bind(org.as_bytes().as_slice())
        .bind(user_id.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.as_ref().map(member).transpose()
    }

    async fn list_members(&self, org: OrganizationId) -> StoreResult<Vec<(Member, User)>> {
        let rows = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS}, {USER_COLUMNS} FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.organization_id = ? ORDER BY m.created_at, m.id"
        ))
        .bind(org.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(|r| Ok((member(r)?, user(r)?))).collect()
    }

    async fn remove_member(&self, org: OrganizationId, id: MemberId) -> StoreResult<Member> {
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        let row =
            sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.organization_id = ? AND m.id = ?"))
                .bind(org.as_bytes().as_slice())
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
        let removed = member(&row)?;
        sqlx::query("DELETE FROM members WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(removed)
    }

    async fn create_invitation(&self, inv: &Invitation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invitations (id, organization_id, email, role, status, expires_at, inviter_id, created_at) \
             VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        )
        .bind(inv.id.as_bytes().as_slice())
        .bind(inv.organization_id.as_bytes().as_slice())
        .bind(&inv.email)
        .bind(inv.role.as_str())
        .bind(inv.expires_at.as_millis())
        .bind(inv.inviter_id.as_bytes().as_slice())
        .bind(inv.created_at.as_millis())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn get_invitation(&self, id: InvitationId) -> StoreResult<Invitation> {
        let row = sqlx::query(&format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?"))
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        invitation(&row)
    }

    async fn list_invitations(&self, org: OrganizationId) -> StoreResult<Vec<Invitation>> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE organization_id = ? AND status = 'pending' ORDER BY created_at, id"
        ))
        .bind(org.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(invitation).collect()
    }

    async fn list_invitations_for(&self, email: &str) -> StoreResult<Vec<Invitation>> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE email = ? AND status = 'pending' ORDER BY created_at, id"
        ))
        .bind(email)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(invitation).collect()
    }

    async fn cancel_invitation(&self, org: OrganizationId, id: InvitationId) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE invitations SET status = 'canceled' WHERE id = ? AND organization_id = ? AND status = 'pending'",
        )
        .bind(id.as_bytes().as_slice())
        .bind(org.as_bytes().as_slice())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn get_onboarding(&self, user_id: UserId) -> StoreResult<Option<Onboarding>> {
        let row = sqlx::query(
            "SELECT id, organization_id, current_step, completed_steps, product_source, product_url, sources, plan, status, \
             created_at, completed_at FROM onboarding WHERE user_id = ?",
        )
        .bind(user_id.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(r) = row else { return Ok(None) };
        let list = |c: &str| -> StoreResult<Vec<serde_json::Value>> {
            let t: String = get(&r, c)?;
            serde_json::from_str(&t).map_err(|e| StoreError::Invalid(format!("{c}: {e}")))
        };
        let status: String = get(&r, "status")?;
        let step: i64 = get(&r, "current_step")?;
        let steps =
            list("completed_steps")?.iter().filter_map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok())).collect();
        let sources = list("sources")?.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        Ok(Some(Onboarding {
            id: crow_core::id::OnboardingId::from_bytes(id_bytes(&r, "id")?),
            better_auth_user_id: user_id.to_string(),
            better_auth_org_id: opt_id(&r, "organization_id")?.map(|b| OrganizationId::from_bytes(b).to_string()),
            current_step: u8::try_from(step).map_err(|_| StoreError::Invalid("current_step".into()))?,
            completed_steps: steps,
            product_source: get(&r, "product_source")?,
            product_url: get(&r, "product_url")?,
            plan: get(&r, "plan")?,
            sources,
            status: match status.as_str() {
                "in_progress" => OnboardingStatus::InProgress,
                "completed" => OnboardingStatus::Completed,
                "abandoned" => OnboardingStatus::Abandoned,
                other => return Err(StoreError::Invalid(format!("onboarding status {other}"))),
            },
            created_at: ts(&r, "created_at")?,
            completed_at: opt_ts(&r, "completed_at")?,
        }))
    }

    async fn save_onboarding(&self, user_id: UserId, o: &Onboarding) -> StoreResult<()> {
        let org: Option<Vec<u8>> = o
            .better_auth_org_id
            .as_deref()
            .map(|s| s.parse::<OrganizationId>().map(|id| id.as_bytes().to_vec()))
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let status = match o.status {
            OnboardingStatus::InProgress => "in_progress",
            OnboardingStatus::Completed => "completed",
            OnboardingStatus::Abandoned => "abandoned",
        };
        sqlx::query(
            "INSERT INTO onboarding (id, user_id, organization_id, current_step, completed_steps, product_source, product_url, \
             sources, plan, status, created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET organization_id = excluded.organization_id, current_step = excluded.current_step, \
             completed_steps = excluded.completed_steps, product_source = excluded.product_source, \
             product_url = excluded.product_url, sources = excluded.sources, plan = excluded.plan, status = excluded.status, \
             completed_at = excluded.completed_at",
        )
        .bind(o.id.as_bytes().as_slice())
        .bind(user_id.as_bytes().as_slice())
        .bind(org)
        .bind(i64::from(o.current_step))
        .bind(json_text(&o.completed_steps)?)
        .bind(&o.product_source)
        .bind(&o.product_url)
        .bind(json_text(&o.sources)?)
        .bind(&o.plan)
        .bind(status)
        .bind(o.created_at.as_millis())
        .bind(o.completed_at.map(Timestamp::as_millis))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn accept_invitation(&self, id: InvitationId, m: &Member) -> StoreResult<()> {
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        let done = sqlx::query("UPDATE invitations SET status = 'accepted' WHERE id = ? AND status = 'pending'")
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("invitation is no longer pending".into()));
        }
        insert_member(&mut tx, m).await?;
        tx.commit().await.map_err(store_error)
    }

    async fn create_api_key(&self, k: &ApiKey, key_hash: &TokenHash) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, name, start, prefix, kind, user_id, organization_id, enabled, \
             rate_limit_enabled, rate_limit_time_window, rate_limit_max, request_count, remaining, expires_at, \
             permissions, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
        )
        .bind(k.id.as_bytes().as_slice())
        .bind(key_hash.as_slice())
        .bind(&k.name)
        .bind(&k.start)
        .bind(&k.prefix)
        .bind(match k.kind {
            ApiKeyKind::Secret => "secret",
            ApiKeyKind::Publishable => "publishable",
        })
        .bind(k.user_id.as_bytes().as_slice())
        .bind(k.organization_id.map(|o| o.as_bytes().to_vec()))
        .bind(k.enabled)
        .bind(k.rate_limit_enabled)
        .bind(k.rate_limit_time_window)
        .bind(k.rate_limit_max)
        .bind(k.remaining)
        .bind(k.expires_at.map(Timestamp::as_millis))
        .bind(to_json(&k.permissions))
        .bind(to_json(&k.metadata))
        .bind(k.created_at.as_millis())
        .bind(k.updated_at.as_millis())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_api_keys(&self, user_id: UserId) -> StoreResult<Vec<ApiKey>> {
        let rows =
            sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id"))
                .bind(user_id.as_bytes().as_slice())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
        rows.iter().map(api_key).collect()
    }

    async fn delete_api_key(&self, user_id: UserId, id: ApiKeyId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = ? AND user_id = ?")
            .bind(id.as_bytes().as_slice())
            .bind(user_id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn update_api_key(
        &self,
        user_id: UserId,
        id: ApiKeyId,
        name: Option<String>,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> StoreResult<ApiKey> {
        let row = sqlx::query(&format!(
            "UPDATE api_keys SET name = COALESCE(?, name), enabled = COALESCE(?, enabled), updated_at = ? \
             WHERE id = ? AND user_id = ? RETURNING {KEY_COLUMNS}"
        ))
        .bind(name)
        .bind(enabled)
        .bind(now.as_millis())
        .bind(id.as_bytes().as_slice())
        .bind(user_id.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        api_key(&row)
    }

    async fn find_api_key(&self, key_hash: &TokenHash) -> StoreResult<Option<ApiKey>> {
        let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?"))
            .bind(key_hash.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(api_key).transpose()
    }

    async fn use_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<KeyUse> {
        let now = now.as_millis();
        // One statement decides and counts, so concurrent verifications cannot overspend
        // `remaining` or the window. A new window starts when the old one has passed.
        let row = sqlx::query(
            "UPDATE api_keys SET \
               request_count = request_count + 1, \
               remaining = CASE WHEN remaining IS NULL THEN NULL ELSE remaining - 1 END, \
               window_count = CASE WHEN rate_limit_enabled = 0 THEN 0 \
                                   WHEN window_started_at IS NULL OR ?1 - window_started_at >= rate_limit_time_window THEN 1 \
                                   ELSE window_count + 1 END, \
               window_started_at = CASE WHEN rate_limit_enabled = 0 THEN NULL \
                                   WHEN window_started_at IS NULL OR ?1 - window_started_at >= rate_limit_time_window THEN ?1 \
                                   ELSE window_started_at END, \
               updated_at = ?1 \
             WHERE id = ?2 \
               AND (remaining IS NULL OR remaining > 0) \
               AND (rate_limit_enabled = 0 OR rate_limit_max IS NULL OR rate_limit_time_window IS NULL \
                    OR window_started_at IS NULL OR ?1 - window_started_at >= rate_limit_time_window \
                    OR window_count < rate_limit_max) \
             RETURNING remaining",
        )
        .bind(now)
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        if let Some(row) = row {
            return Ok(KeyUse::Allowed { remaining: get(&row, "remaining")? });
        }
        // Refused: say why.
        let row = sqlx::query("SELECT remaining, rate_limit_time_window, window_started_at FROM api_keys WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        let remaining: Option<i64> = get(&row, "remaining")?;
        if remaining.is_some_and(|r| r <= 0) {
            return Ok(KeyUse::Exhausted);
        }
        let window: Option<i64> = get(&row, "rate_limit_time_window")?;
        let started: Option<i64> = get(&row, "window_started_at")?;
        let retry_after_ms = match (window, started) {
            (Some(w), Some(s)) => (s + w - now).max(1),
            _ => 1000,
        };
        Ok(KeyUse::RateLimited { retry_after_ms })
    }

    async fn signing_keys(&self) -> StoreResult<Vec<StoredSigningKey>> {
        let rows = sqlx::query(
            "SELECT id, public_key, private_key, created_at, retired_at FROM jwks ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(StoredSigningKey {
                    id: JwksKeyId::from_bytes(id_bytes(r, "id")?),
                    public_jwk: get(r, "public_key")?,
                    sealed_private_key: get(r, "private_key")?,
                    created_at: ts(r, "created_at")?,
                    retired_at: opt_ts(r, "retired_at")?,
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, k: &StoredSigningKey) -> StoreResult<()> {
        sqlx::query("INSERT INTO jwks (id, public_key, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)")
            .bind(k.id.as_bytes().as_slice())
            .bind(&k.public_jwk)
            .bind(&k.sealed_private_key)
            .bind(k.created_at.as_millis())
            .bind(k.retired_at.map(Timestamp::as_millis))
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn retire_signing_key(&self, id: JwksKeyId, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE jwks SET retired_at = ? WHERE id = ? AND retired_at IS NULL")
            .bind(at.as_millis())
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_retired_keys(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM jwks WHERE retired_at IS NOT NULL AND retired_at < ?")
            .bind(before.as_millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }
}

async fn insert_member(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, m: &Member) -> StoreResult<()> {
    sqlx::query("INSERT INTO members (id, organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(m.id.as_bytes().as_slice())
        .bind(m.organization_id.as_bytes().as_slice())
        .bind(m.user_id.as_bytes().as_slice())
        .bind(m.role.as_str())
        .bind(m.created_at.as_millis())
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}
