//! Open web sessions on SQLite.

use std::collections::BTreeMap;

use async_trait::async_trait;
use crow_core::domain::InteractionKind;
use crow_core::id::OrganizationId;
use crow_core::ports::store::{SessionActivity, StoreError, StoreResult, WebSession, WebSessionStore};
use crow_core::{TenantPass, Timestamp};
use sqlx::{Row, SqlitePool};

use super::{id_bytes, json_text, store_error};

const RECENT: usize = 10;

/// SQLite-backed [`WebSessionStore`].
#[derive(Clone, Debug)]
pub struct SqliteWebSessionStore {
    pool: SqlitePool,
}

impl SqliteWebSessionStore {
    /// A store over `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

fn session(row: &sqlx::sqlite::SqliteRow) -> StoreResult<WebSession> {
    let recent: String = row.try_get("recent").map_err(store_error)?;
    let pages: i64 = row.try_get("pages").map_err(store_error)?;
    Ok(WebSession {
        organization_id: OrganizationId::from_bytes(id_bytes(row, "organization_id")?),
        session_id: row.try_get("session_id").map_err(store_error)?,
        started_at: Timestamp::from_millis(row.try_get("started_at").map_err(store_error)?),
        last_at: Timestamp::from_millis(row.try_get("last_at").map_err(store_error)?),
        pages: u32::try_from(pages).unwrap_or(u32::MAX),
        exit_url: row.try_get("exit_url").map_err(store_error)?,
        cart_items: row.try_get("cart_items").map_err(store_error)?,
        purchased: row.try_get("purchased").map_err(store_error)?,
        recent: serde_json::from_str(&recent).map_err(|e| StoreError::Invalid(e.to_string()))?,
    })
}

#[async_trait]
impl WebSessionStore for SqliteWebSessionStore {
    async fn record(&self, pass: &TenantPass, activity: &[SessionActivity]) -> StoreResult<()> {
        let org = pass.organization_id();
        let mut by_session: BTreeMap<&str, Vec<&SessionActivity>> = BTreeMap::new();
        for a in activity {
            by_session.entry(a.session_id.as_str()).or_default().push(a);
        }
        let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
        for (id, mut events) in by_session {
            events.sort_by_key(|a| a.at);
            let existing = sqlx::query(
                "SELECT organization_id, session_id, started_at, last_at, pages, exit_url, cart_items, purchased, recent, closed_at \
                 FROM web_sessions WHERE organization_id = ? AND session_id = ?",
            )
            .bind(org.as_bytes().as_slice())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
            let mut s = match &existing {
                Some(row) => {
                    let closed: Option<i64> = row.try_get("closed_at").map_err(store_error)?;
                    if closed.is_some() {
                        continue; // already summarised; a late retry changes nothing
                    }
                    session(row)?
                }
                None => WebSession {
                    organization_id: org,
                    session_id: id.to_owned(),
                    started_at: events[0].at,
                    last_at: events[0].at,
                    pages: 0,
                    exit_url: None,
                    cart_items: 0,
                    purchased: false,
                    recent: Vec::new(),
                },
            };
            for a in events {
                s.started_at = s.started_at.min(a.at);
                if a.at >= s.last_at {
                    s.last_at = a.at;
                    s.exit_url = Some(a.url.clone());
                }
                s.pages += u32::from(a.kind == InteractionKind::PageView);
                s.cart_items = (s.cart_items + a.cart_delta).max(0);
                s.purchased |= a.kind == InteractionKind::Purchase;
                s.recent.push(a.kind.as_str().to_owned());
            }
            let drop = s.recent.len().saturating_sub(RECENT);
            s.recent.drain(..drop);
            sqlx::query(
                "INSERT INTO web_sessions (organization_id, session_id, started_at, last_at, pages, exit_url, cart_items, purchased, recent) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organization_id, session_id) DO UPDATE SET \
                 started_at = excluded.started_at, last_at = excluded.last_at, pages = excluded.pages, exit_url = excluded.exit_url, \
                 cart_items = excluded.cart_items, purchased = excluded.purchased, recent = excluded.recent",
            )
            .bind(org.as_bytes().as_slice())
            .bind(id)
            .bind(s.started_at.as_millis())
            .bind(s.last_at.as_millis())
            .bind(i64::from(s.pages))
            .bind(&s.exit_url)
            .bind(s.cart_items)
            .bind(s.purchased)
            .bind(json_text(&s.recent)?)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn idle(&self, before: Timestamp, limit: usize) -> StoreResult<Vec<WebSession>> {
        let rows = sqlx::query(
            "SELECT organization_id, session_id, started_at, last_at, pages, exit_url, cart_items, purchased, recent \
             FROM web_sessions WHERE closed_at IS NULL AND last_at < ? ORDER BY last_at LIMIT ?",
        )
        .bind(before.as_millis())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(session).collect()
    }

    async fn close(&self, pass: &TenantPass, session_id: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE web_sessions SET closed_at = ? WHERE organization_id = ? AND session_id = ?")
            .bind(at.as_millis())
            .bind(pass.organization_id().as_bytes().as_slice())
            .bind(session_id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
