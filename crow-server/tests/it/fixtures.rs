//! Shared test data.

use crow_core::domain::{Channel, InteractionKind, NewInteraction, Organization, ProductRef};
use crow_core::id::{InteractionId, OrganizationId, ProductId, UserId};
use crow_core::tenancy::{Caller, Principal, Role};
use crow_core::{TenantPass, Timestamp};

/// An organization record with unique auth id and slug.
pub fn organization(name: &str) -> Organization {
    let id = OrganizationId::new();
    Organization {
        id,
        auth_id: format!("auth-{id}"),
        name: name.to_owned(),
        slug: format!("{}-{}", name.to_lowercase(), id.as_uuid().simple()),
        logo: None,
        metadata: Some(serde_json::json!({ "plan": "trial" })),
        allowed_origins: vec!["https://shop.example".to_owned()],
        ai_context: None,
        created_at: Timestamp::from_millis(1_700_000_000_000),
        updated_at: Timestamp::from_millis(1_700_000_000_000),
    }
}

/// A pass for `org`, obtained the way handlers do: from a verified caller.
pub fn pass_for(org: OrganizationId) -> TenantPass {
    Caller::from_verified(Principal::User { user_id: UserId::new() }, Some(org), Some(Role::Member))
        .tenant()
        .expect("a member with an org gets a pass")
}

/// A web interaction at `at` ms.
pub fn interaction(at: i64, kind: InteractionKind, session: &str, product: Option<ProductId>) -> NewInteraction {
    NewInteraction {
        id: InteractionId::new(),
        channel: Channel::Web,
        kind,
        occurred_at: Timestamp::from_millis(at),
        session_id: Some(session.to_owned()),
        products: product.map(|p| ProductRef { product_id: Some(p), ..ProductRef::default() }).into_iter().collect(),
        confidence: None,
        tags: vec!["test".to_owned()],
        payload: serde_json::json!({ "url": "https://shop.example/p/1", "depth": at % 100 }),
        analysis: None,
    }
}
