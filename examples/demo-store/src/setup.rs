//! One-command setup against a running crow-server: a demo account, its organization with this
//! store's origin allowed, and a publishable key for the tracker.

use std::time::Duration;

use crow_client::Client;
use crow_core::api::auth::CreateApiKey;
use crow_core::domain::ApiKeyKind;

/// Why setup failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// crow-server refused or could not be reached.
    #[error("crow-server: {0}")]
    Crow(#[from] crow_client::Error),
    /// The organization never reached the organizations service.
    #[error("the organization was not synced to the organizations service in time")]
    NotSynced,
}

/// A slug unique per account: organization slugs are unique across the server.
fn slug(email: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    email.hash(&mut h);
    format!("rogue-store-{:016x}", h.finish())
}

/// What setup leaves behind.
#[derive(Debug)]
pub struct Shop {
    /// The new publishable key for the store's pages.
    pub key: String,
    /// The owner's session (its active organization is the store's), to read what was tracked.
    pub owner: Client,
}

/// Signs up (or in) `email`, makes sure it has an organization allowing `store_origin`, and
/// creates a publishable key. `browser_origin` is a trusted origin for the sign-up call.
pub async fn shop(
    crow_url: &str,
    browser_origin: &str,
    email: &str,
    password: &str,
    store_origin: &str,
) -> Result<Shop, SetupError> {
    let anonymous = Client::new(crow_url)?.with_origin(browser_origin);
    let (token, fresh) = match anonymous.sign_up("Rogue Store", email, password).await {
        Ok(s) => (s.token, true),
        Err(_) => (anonymous.sign_in(email, password).await?.token, false),
    };
    let owner = anonymous.with_session(token);
    let org = match owner.list_organizations().await?.into_iter().next() {
        Some(o) if !fresh => o.id,
        _ => owner.create_organization("Rogue Store", &slug(email)).await?.organization.id,
    };
    owner.set_active_organization(Some(org)).await?;
    // The organizations service learns of the new organization through the outbox.
    let mut synced = false;
    for _ in 0..100 {
        if owner.update_organization(org, serde_json::json!({ "allowedOrigins": [store_origin] })).await.is_ok() {
            synced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !synced {
        return Err(SetupError::NotSynced);
    }
    let key = owner.create_api_key(&CreateApiKey { kind: Some(ApiKeyKind::Publishable), ..Default::default() }).await?;
    Ok(Shop { key: key.key, owner })
}
