//! Store conformance: round trips, idempotency, filters, pagination and tenant isolation.

use std::collections::HashSet;
use std::sync::Arc;

use crow_core::Timestamp;
use crow_core::domain::{Channel, CountBy, InteractionKind, InteractionQuery, ProductRef};
use crow_core::id::{InteractionId, OrganizationId, ProductId};
use crow_core::ports::store::{InteractionStore, OrganizationStore, StoreError};

use crate::fixtures::{interaction, organization, pass_for};

pub struct Stores {
    pub organizations: Arc<dyn OrganizationStore>,
    pub interactions: Arc<dyn InteractionStore>,
}

pub async fn organization_round_trip_and_idempotent_create(s: Stores) {
    let org = organization("Acme");
    let created = s.organizations.create(&org).await.unwrap();
    assert_eq!(created, org);
    // A retried sync with a fresh internal id returns the first record, not a second tenant.
    let retry = crow_core::domain::Organization { id: OrganizationId::new(), ..org.clone() };
    assert_eq!(s.organizations.create(&retry).await.unwrap().id, org.id);
    assert_eq!(s.organizations.resolve_auth_id(&org.auth_id).await.unwrap(), org.id);
    assert!(matches!(s.organizations.resolve_auth_id("unknown").await, Err(StoreError::NotFound)));
    assert_eq!(s.organizations.get(&pass_for(org.id)).await.unwrap(), org);
    assert!(s.organizations.list_ids().await.unwrap().contains(&org.id));

    let mut other = organization("Other");
    other.slug = org.slug.clone();
    assert!(matches!(s.organizations.create(&other).await, Err(StoreError::Conflict(_))), "slugs are unique");
}

pub async fn organization_update_is_confined_to_the_pass(s: Stores) {
    let a = s.organizations.create(&organization("A")).await.unwrap();
    let b = s.organizations.create(&organization("B")).await.unwrap();
    // A record naming B, written with A's pass, changes A only.
    let edit =
        crow_core::domain::Organization { name: "Renamed".into(), ai_context: Some("sells mugs".into()), ..b.clone() };
    let updated = s
        .organizations
        .update(&pass_for(a.id), &crow_core::domain::Organization { slug: a.slug.clone(), ..edit })
        .await
        .unwrap();
    assert_eq!(updated.id, a.id);
    assert_eq!(updated.name, "Renamed");
    assert_eq!(s.organizations.get(&pass_for(b.id)).await.unwrap().name, "B");
    assert!(matches!(s.organizations.get(&pass_for(OrganizationId::new())).await, Err(StoreError::NotFound)));
}

pub async fn interactions_round_trip_idempotently(s: Stores) {
    let org = s.organizations.create(&organization("Shop")).await.unwrap();
    let pass = pass_for(org.id);
    let product = ProductId::new();
    let items: Vec<_> =
        (0..300).map(|i| interaction(1_000 + i, InteractionKind::PageView, "s1", Some(product))).collect();
    let outcome = s.interactions.insert_batch(&pass, &items).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (300, 0));
    // Redelivery of a partly new batch stores only the new rows.
    let mut again = items[..10].to_vec();
    again.push(interaction(5_000, InteractionKind::Click, "s1", None));
    let outcome = s.interactions.insert_batch(&pass, &again).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (1, 10));

    let got = s.interactions.get(&pass, items[7].id).await.unwrap();
    assert_eq!(got.organization_id, org.id);
    assert_eq!(got.kind, items[7].kind);
    assert_eq!(got.occurred_at, items[7].occurred_at);
    assert_eq!(got.products, items[7].products);
    assert_eq!(got.payload, items[7].payload);
    assert_eq!(got.tags, items[7].tags);
    assert!(got.received_at > Timestamp::EPOCH);
    assert!(matches!(s.interactions.get(&pass, InteractionId::new()).await, Err(StoreError::NotFound)));
    assert_eq!(s.interactions.insert_batch(&pass, &[]).await.unwrap().inserted, 0);
}

pub async fn interactions_filter_and_paginate(s: Stores) {
    let org = s.organizations.create(&organization("Shop")).await.unwrap();
    let pass = pass_for(org.id);
    let mug = ProductId::new();
    let mut items = Vec::new();
    for i in 0..120 {
        let kind = if i % 3 == 0 { InteractionKind::AddToCart } else { InteractionKind::PageView };
        let session = if i % 2 == 0 { "even" } else { "odd" };
        // Pairs share a timestamp so the id tie-break is exercised.
        items.push(interaction(10_000 + (i / 2), kind, session, (i % 4 == 0).then_some(mug)));
    }
    s.interactions.insert_batch(&pass, &items).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .interactions
            .list(&pass, &InteractionQuery { limit: Some(7), cursor, ..Default::default() })
            .await
            .unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|i| (i.occurred_at, i.id)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120, "every row exactly once across pages");
    assert_eq!(seen.iter().map(|(_, id)| *id).collect::<HashSet<_>>().len(), 120);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, ties by id");

    let count = |q: InteractionQuery| {
        let s = &s;
        let pass = &pass;
        async move { s.interactions.list(pass, &InteractionQuery { limit: Some(500), ..q }).await.unwrap().items.len() }
    };
    assert_eq!(count(InteractionQuery { kind: Some(InteractionKind::AddToCart), ..Default::default() }).await, 40);
    assert_eq!(count(InteractionQuery { session_id: Some("odd".into()), ..Default::default() }).await, 60);
    assert_eq!(count(InteractionQuery { product: Some(mug.to_string()), ..Default::default() }).await, 30);
    assert_eq!(count(InteractionQuery { channel: Some(Channel::Cctv), ..Default::default() }).await, 0);
    let window = InteractionQuery {
        since: Some(Timestamp::from_millis(10_010)),
        until: Some(Timestamp::from_millis(10_020)),
        ..Default::default()
    };
    assert_eq!(count(window).await, 20);

    let bad = InteractionQuery { cursor: Some("garbage".into()), ..Default::default() };
    assert!(matches!(s.interactions.list(&pass, &bad).await, Err(StoreError::Invalid(_))));
}

pub async fn interactions_link_products_and_count_over_time(s: Stores) {
    let org = s.organizations.create(&organization("Shop")).await.unwrap();
    let pass = pass_for(org.id);
    let mug = ProductId::new();
    let mut items: Vec<_> = (0..60)
        .map(|i| {
            let kind = if i % 3 == 0 { InteractionKind::AddToCart } else { InteractionKind::PageView };
            interaction(10_000 + i, kind, "s", (i % 2 == 0).then_some(mug))
        })
        .collect();
    // A product the page named by its own id and SKU only (no catalogue id yet).
    let mut tote = interaction(10_000, InteractionKind::ProductView, "s", None);
    tote.products =
        vec![ProductRef { external_id: Some("tote".into()), sku: Some("RS-3".into()), ..Default::default() }];
    items.push(tote);
    s.interactions.insert_batch(&pass, &items).await.unwrap();

    // Filtering accepts any of a product's keys.
    for key in ["tote", "RS-3"] {
        let q = InteractionQuery { product: Some(key.into()), ..Default::default() };
        assert_eq!(s.interactions.list(&pass, &q).await.unwrap().items.len(), 1, "{key}");
    }
    let q = InteractionQuery::default();
    let totals = s.interactions.counts(&pass, &q, CountBy::Kind, None).await.unwrap();
    let kinds: Vec<(&str, u64)> = totals.iter().map(|c| (c.key.as_str(), c.count)).collect();
    assert_eq!(kinds, [("page_view", 40), ("add_to_cart", 20), ("product_view", 1)]);
    assert!(totals.iter().all(|c| c.start.is_none()));

    let by_product = s.interactions.counts(&pass, &q, CountBy::Product, None).await.unwrap();
    let products: Vec<(&str, u64)> = by_product.iter().map(|c| (c.key.as_str(), c.count)).collect();
    assert_eq!(products, [(mug.to_string().as_str(), 30), ("tote", 1)]);

    // Per 20 ms bucket: mug views at 10000, 10002, … 10058 → 10 per bucket.
    let q = InteractionQuery { product: Some(mug.to_string()), ..Default::default() };
    let series = s.interactions.counts(&pass, &q, CountBy::Product, Some(20)).await.unwrap();
    let buckets: Vec<(i64, u64)> = series.iter().map(|c| (c.start.unwrap().as_millis(), c.count)).collect();
    assert_eq!(buckets, [(10_000, 10), (10_020, 10), (10_040, 10)]);
    let q = InteractionQuery { kind: Some(InteractionKind::AddToCart), ..Default::default() };
    let series = s.interactions.counts(&pass, &q, CountBy::Kind, Some(30)).await.unwrap();
    // Buckets align to the epoch, not to the first event: 9990, 10020, 10050.
    let buckets: Vec<(i64, u64)> = series.iter().map(|c| (c.start.unwrap().as_millis(), c.count)).collect();
    assert_eq!(buckets, [(9_990, 7), (10_020, 10), (10_050, 3)]);

    // Another tenant counts nothing.
    let other = s.organizations.create(&organization("Other")).await.unwrap();
    let (other, all) = (pass_for(other.id), InteractionQuery::default());
    assert!(s.interactions.counts(&other, &all, CountBy::Product, None).await.unwrap().is_empty());
}

pub async fn interactions_are_invisible_to_other_tenants(s: Stores) {
    let a = s.organizations.create(&organization("A")).await.unwrap();
    let b = s.organizations.create(&organization("B")).await.unwrap();
    let item = interaction(1, InteractionKind::Purchase, "s", None);
    s.interactions.insert_batch(&pass_for(a.id), std::slice::from_ref(&item)).await.unwrap();
    let pass_b = pass_for(b.id);
    assert!(matches!(s.interactions.get(&pass_b, item.id).await, Err(StoreError::NotFound)));
    assert!(s.interactions.list(&pass_b, &InteractionQuery::default()).await.unwrap().items.is_empty());
    // Re-inserting A's id under B is a duplicate, never a copy into B.
    let outcome = s.interactions.insert_batch(&pass_b, std::slice::from_ref(&item)).await.unwrap();
    assert_eq!(outcome.inserted, 0);
    assert!(s.interactions.list(&pass_b, &InteractionQuery::default()).await.unwrap().items.is_empty());
}

pub async fn deleting_an_organization_removes_its_data(s: Stores) {
    let a = s.organizations.create(&organization("A")).await.unwrap();
    let b = s.organizations.create(&organization("B")).await.unwrap();
    let item = interaction(1, InteractionKind::Click, "s", None);
    s.interactions.insert_batch(&pass_for(a.id), std::slice::from_ref(&item)).await.unwrap();
    s.interactions.insert_batch(&pass_for(b.id), &[interaction(2, InteractionKind::Click, "s", None)]).await.unwrap();
    s.organizations.delete(&pass_for(a.id)).await.unwrap();
    assert!(matches!(s.organizations.get(&pass_for(a.id)).await, Err(StoreError::NotFound)));
    assert!(matches!(s.interactions.get(&pass_for(a.id), item.id).await, Err(StoreError::NotFound)));
    assert_eq!(
        s.interactions.list(&pass_for(b.id), &InteractionQuery::default()).await.unwrap().items.len(),
        1,
        "B untouched"
    );
    assert!(matches!(s.organizations.delete(&pass_for(a.id)).await, Err(StoreError::NotFound)));
}

pub async fn interactions_need_an_existing_organization(s: Stores) {
    let pass = pass_for(OrganizationId::new());
    let result = s.interactions.insert_batch(&pass, &[interaction(1, InteractionKind::Click, "s", None)]).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
}

macro_rules! store_conformance {
    ($backend:ident, $make:ident) => {
        mod $backend {
            use super::stores as suite;

            #[tokio::test]
            async fn organization_round_trip_and_idempotent_create() {
                let (s, _g) = super::$make().await;
                suite::organization_round_trip_and_idempotent_create(s).await;
            }
            #[tokio::test]
            async fn organization_update_is_confined_to_the_pass() {
                let (s, _g) = super::$make().await;
                suite::organization_update_is_confined_to_the_pass(s).await;
            }
            #[tokio::test]
            async fn interactions_round_trip_idempotently() {
                let (s, _g) = super::$make().await;
                suite::interactions_round_trip_idempotently(s).await;
            }
            #[tokio::test]
            async fn interactions_filter_and_paginate() {
                let (s, _g) = super::$make().await;
                suite::interactions_filter_and_paginate(s).await;
            }
            #[tokio::test]
            async fn interactions_link_products_and_count_over_time() {
                let (s, _g) = super::$make().await;
                suite::interactions_link_products_and_count_over_time(s).await;
            }
            #[tokio::test]
            async fn interactions_are_invisible_to_other_tenants() {
                let (s, _g) = super::$make().await;
                suite::interactions_are_invisible_to_other_tenants(s).await;
            }
            #[tokio::test]
            async fn deleting_an_organization_removes_its_data() {
                let (s, _g) = super::$make().await;
                suite::deleting_an_organization_removes_its_data(s).await;
            }
            #[tokio::test]
            async fn interactions_need_an_existing_organization() {
                let (s, _g) = super::$make().await;
                suite::interactions_need_an_existing_organization(s).await;
            }
        }
    };
}
