//! Interactions on SQLite.
//!
//! Batches are written as multi-row `INSERT … ON CONFLICT DO NOTHING` statements of a fixed
//! chunk size inside one transaction: one round trip to sqlx's SQLite worker per chunk instead of
//! per row (the per-row round trip, not SQLite, is the cost), and a fixed chunk size keeps the
//! number of distinct cached statements small.

use async_trait::async_trait;
use crow_core::domain::{
    Channel, Count, CountBy, Interaction, InteractionKind, InteractionQuery, NewInteraction, Page,
};
use crow_core::id::{InteractionId, OrganizationId};
use crow_core::ports::clock::Clock;
use crow_core::ports::store::{InsertOutcome, InteractionStore, RejectedEvent, StoreError, StoreResult};
use crow_core::{TenantPass, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::sync::Arc;

use super::{id_bytes, json_text, store_error};

/// Rows per INSERT statement: 128 × 12 parameters stays far below SQLite's 32 766 limit.
const CHUNK: usize = 128;
/// Largest page a listing returns.
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;

/// SQLite-backed [`InteractionStore`].
#[derive(Clone, Debug)]
pub struct SqliteInteractionStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl SqliteInteractionStore {
    /// A store over `pool`; `clock` stamps `received_at`.
    pub fn new(pool: SqlitePool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }
}

/// One row's values, serialized before the statement is built.
struct Encoded<'a> {
    item: &'a NewInteraction,
    products: String,
    tags: String,
    payload: String,
    analysis: Option<String>,
}

fn encode(item: &NewInteraction) -> StoreResult<Encoded<'_>> {
    Ok(Encoded {
        item,
        products: json_text(&item.products)?,
        tags: json_text(&item.tags)?,
        payload: json_text(&item.payload)?,
        analysis: item.analysis.as_ref().map(json_text).transpose()?,
    })
}

/// `INSERT … VALUES (…), (…) ON CONFLICT (id) DO NOTHING` for one chunk; returns rows written.
async fn insert_chunk<'e, E: sqlx::SqliteExecutor<'e>>(
    executor: E,
    org: OrganizationId,
    received_at: i64,
    chunk: &[Encoded<'_>],
) -> StoreResult<u64> {
    let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "INSERT INTO interactions (id, organization_id, channel, kind, occurred_at, received_at, \
         session_id, products, confidence, tags, payload, analysis) ",
    );
    q.push_values(chunk, |mut row, e| {
        row.push_bind(e.item.id.as_bytes().as_slice())
            .push_bind(org.as_bytes().to_vec())
            .push_bind(e.item.channel.as_str())
            .push_bind(e.item.kind.as_str())
            .push_bind(e.item.occurred_at.as_millis())
            .push_bind(received_at)
            .push_bind(e.item.session_id.as_deref())
            .push_bind(e.products.as_str())
            .push_bind(e.item.confidence)
            .push_bind(e.tags.as_str())
            .push_bind(e.payload.as_str())
            .push_bind(e.analysis.as_deref());
    });
    q.push(" ON CONFLICT (id) DO NOTHING");
    let done = q.build().persistent(true).execute(executor).await.map_err(store_error)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl InteractionStore for SqliteInteractionStore {
    async fn insert_batch(&self, pass: &TenantPass, items: &[NewInteraction]) -> StoreResult<InsertOutcome> {
        if items.is_empty() {
            return Ok(InsertOutcome::default());
        }
        let org = pass.organization_id();
        let received_at = self.clock.now().as_millis();
        let encoded = items.iter().map(encode).collect::<StoreResult<Vec<_>>>()?;
        let inserted = if encoded.len() <= CHUNK {
            // One statement is atomic on its own: no BEGIN/COMMIT round trips for small batches.
            insert_chunk(&self.pool, org, received_at, &encoded).await?
        } else {
            let mut tx = super::write_tx(&self.pool).await.map_err(store_error)?;
            let mut inserted = 0;
            for chunk in encoded.chunks(CHUNK) {
                inserted += insert_chunk(&mut *tx, org, received_at, chunk).await?;
            }
            tx.commit().await.map_err(store_error)?;
            inserted
        };
        Ok(InsertOutcome { inserted, duplicates: items.len() as u64 - inserted })
    }

    async fn get(&self, pass: &TenantPass, id: InteractionId) -> StoreResult<Interaction> {
        let row = sqlx::query(concat!(
            "SELECT id, organization_id, channel, kind, occurred_at, received_at, session_id, products, ",
            "confidence, tags, payload, analysis FROM interactions WHERE organization_id = ? AND id = ?"
        ))
        .bind(pass.organization_id().as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        decode(&row)
    }

    async fn list(&self, pass: &TenantPass, query: &InteractionQuery) -> StoreResult<Page<Interaction>> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, organization_id, channel, kind, occurred_at, received_at, session_id, products, \
             confidence, tags, payload, analysis FROM interactions WHERE ",
        );
        push_filters(&mut q, pass, query);
        if let Some(cursor) = &query.cursor {
            let (at, id) = decode_cursor(cursor)?;
            q.push(" AND (occurred_at < ")
                .push_bind(at)
                .push(" OR (occurred_at = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(id.as_bytes().to_vec())
                .push("))");
        }
        // One extra row tells whether another page exists.
        q.push(" ORDER BY occurred_at DESC, id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await.map_err(store_error)?;
        let mut items = rows.iter().map(decode).collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|last| encode_cursor(last.occurred_at, last.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn store_rejected(&self, pass: &TenantPass, rejected: &[RejectedEvent]) -> StoreResult<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO rejected_events (organization_id, raw, reason, received_at) ");
        q.push_values(rejected, |mut row, r| {
            row.push_bind(pass.organization_id().as_bytes().to_vec())
                .push_bind(r.raw.as_str())
                .push_bind(r.reason.as_str())
                .push_bind(r.received_at.as_millis());
        });
        q.build().execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    async fn counts(
        &self,
        pass: &TenantPass,
        query: &InteractionQuery,
        by: CountBy,
        bucket_ms: Option<i64>,
    ) -> StoreResult<Vec<Count>> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT ");
        q.push(match by {
            CountBy::Kind => "kind AS group_key".to_owned(),
            CountBy::Product => format!("COALESCE({}) AS group_key", product_keys("p")),
        });
        match bucket_ms.filter(|b| *b > 0) {
            Some(b) => q.push(", (occurred_at / ").push_bind(b).push(") * ").push_bind(b),
            None => q.push(", NULL"),
        };
        q.push(" AS bucket, COUNT(*) AS n FROM interactions");
        if by == CountBy::Product {
            q.push(", json_each(interactions.products) AS p");
        }
        q.push(" WHERE ");
        push_filters(&mut q, pass, query);
        q.push(
            " GROUP BY group_key, bucket HAVING group_key IS NOT NULL ORDER BY bucket, n DESC, group_key LIMIT 10000",
        );
        let rows = q.build().fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n").map_err(store_error)?;
                let bucket: Option<i64> = r.try_get("bucket").map_err(store_error)?;
                Ok(Count {
                    key: r.try_get("group_key").map_err(store_error)?,
                    start: bucket.map(Timestamp::from_millis),
                    count: u64::try_from(n).unwrap_or(0),
                })
            })
            .collect()
    }
}

/// `organization_id = ? AND …` for the pass and the query's filters (not the cursor).
fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, pass: &TenantPass, query: &InteractionQuery) {
    q.push("organization_id = ").push_bind(pass.organization_id().as_bytes().to_vec());
    if let Some(since) = query.since {
        q.push(" AND occurred_at >= ").push_bind(since.as_millis());
    }
    if let Some(until) = query.until {
        q.push(" AND occurred_at < ").push_bind(until.as_millis());
    }
    if let Some(channel) = query.channel {
        q.push(" AND channel = ").push_bind(channel.as_str());
    }
    if let Some(kind) = query.kind {
        q.push(" AND kind = ").push_bind(kind.as_str());
    }
    if let Some(session) = &query.session_id {
        q.push(" AND session_id = ").push_bind(session.clone());
    }
    if let Some(product) = &query.product {
        // Any of the product's keys: catalogue id, the shop's id, SKU or URL.
        q.push(" AND EXISTS (SELECT 1 FROM json_each(products) AS f WHERE ")
            .push_bind(product.clone())
            .push(format!(" IN ({}))", product_keys("f")));
    }
}

/// A product's keys in `ProductRef::key`'s order of precedence.
const PRODUCT_KEYS: [&str; 4] = ["productId", "externalId", "sku", "url"];

/// The keys of the product `alias.value` (an element of `json_each(products)`), comma-separated.
fn product_keys(alias: &str) -> String {
    PRODUCT_KEYS.map(|k| format!("json_extract({alias}.value, '$.{k}')")).join(", ")
}

fn encode_cursor(at: Timestamp, id: InteractionId) -> String {
    format!("{}.{}", at.as_millis(), id.as_uuid().simple())
}

fn decode_cursor(cursor: &str) -> StoreResult<(i64, InteractionId)> {
    let bad = || StoreError::Invalid("malformed cursor".into());
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

fn json<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column).map_err(store_error)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Invalid(format!("{column}: {e}")))
}

fn decode(row: &SqliteRow) -> StoreResult<Interaction> {
    let text = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(store_error) };
    let channel = text("channel")?;
    let kind = text("kind")?;
    let analysis: Option<String> = row.try_get("analysis").map_err(store_error)?;
    Ok(Interaction {
        id: InteractionId::from_bytes(id_bytes(row, "id")?),
        organization_id: OrganizationId::from_bytes(id_bytes(row, "organization_id")?),
        channel: Channel::parse(&channel).ok_or_else(|| StoreError::Invalid(format!("channel {channel}")))?,
        kind: InteractionKind::parse(&kind).ok_or_else(|| StoreError::Invalid(format!("kind {kind}")))?,
        occurred_at: Timestamp::from_millis(row.try_get("occurred_at").map_err(store_error)?),
        received_at: Timestamp::from_millis(row.try_get("received_at").map_err(store_error)?),
        session_id: row.try_get("session_id").map_err(store_error)?,
        products: json(row, "products")?,
        confidence: row.try_get("confidence").map_err(store_error)?,
        tags: json(row, "tags")?,
        payload: json(row, "payload")?,
        analysis: analysis
            .map(|a| serde_json::from_str(&a).map_err(|e| StoreError::Invalid(format!("analysis: {e}"))))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use crow_core::domain::ProductRef;

    /// The SQL keys and `ProductRef::key` must agree on precedence: each key wins over the ones
    /// after it.
    #[test]
    fn sql_product_keys_match_the_domain_rule() {
        let full = ProductRef {
            product_id: Some(crow_core::id::ProductId::new()),
            external_id: Some("E".into()),
            sku: Some("S".into()),
            url: Some("U".into()),
            name: None,
        };
        let json = serde_json::to_value(&full).unwrap();
        let mut p = full.clone();
        for key in super::PRODUCT_KEYS {
            assert_eq!(p.key().as_deref(), json[key].as_str(), "{key}");
            match key {
                "productId" => p.product_id = None,
                "externalId" => p.external_id = None,
                "sku" => p.sku = None,
                _ => p.url = None,
            }
        }
    }
}
