//! The users and organizations services behind the internal key: the caller comes from the JWT
//! the gateway forwards, and every org-scoped route passes the BOLA check.

use crow_client::Client;
use crow_core::ErrorCode;
use crow_core::api::auth::CreateApiKey;
use crow_core::tenancy::Role;
use serde_json::json;

use crate::support::{KEY, Running, SERVICE_KEY, start};

const PASSWORD: &str = "correct horse battery";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A signed-up user with a synced organization, and a service-side client carrying their JWT.
async fn tenant(app: &Running, name: &str, email: &str, slug: &str) -> (Client, Client, crow_core::OrganizationId) {
    let (browser, org) = crate::support::tenant(app, name, email, slug).await;
    let jwt = browser.token().await.unwrap();
    (browser, app.client().with_internal_key(KEY).with_bearer(jwt), org)
}

#[tokio::test]
async fn organizations_are_read_and_updated_only_by_their_members() {
    let app = start(&[]).await;
    let (_, acme, acme_id) = tenant(&app, "Acme", "ada@acme.io", "acme").await;
    let (_, _, beta_id) = tenant(&app, "Beta", "bob@beta.io", "beta").await;

    assert_eq!(acme.organization(acme_id).await.unwrap().name, "Acme");
    // BOLA: Acme's credential on Beta's organization.
    let err = acme.organization(beta_id).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some(ErrorCode::Forbidden)));
    assert_eq!(acme.organization_members(beta_id).await.unwrap_err().status(), Some(403));
    assert_eq!(acme.update_organization(beta_id, json!({ "name": "Pwned" })).await.unwrap_err().status(), Some(403));
    // A spoofed tenant header that disagrees with the credential is refused.
    let spoofed = acme.clone().with_header("x-organization-id", beta_id.to_string());
    assert_eq!(spoofed.organization(beta_id).await.unwrap_err().status(), Some(403));
    assert_eq!(spoofed.organization(acme_id).await.unwrap_err().status(), Some(403));
    // Without the internal key, nothing.
    let direct = app.client().with_bearer("whatever");
    assert_eq!(direct.organization(acme_id).await.unwrap_err().code(), Some(ErrorCode::Unauthorized));
    // A forged token.
    let forged = app.client().with_internal_key(KEY).with_bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    assert_eq!(forged.organization(acme_id).await.unwrap_err().status(), Some(401));

    // The owner edits the organization, including the tracker's allowed origins.
    let updated = acme
        .update_organization(acme_id, json!({ "allowedOrigins": ["https://shop.acme.io", "https://*.acme.io"], "metadata": { "industry": "ceramic mugs" } }))
        .await
        .unwrap();
    assert_eq!(updated.allowed_origins, vec!["https://shop.acme.io", "https://*.acme.io"]);
    let err = acme.update_organization(acme_id, json!({ "allowedOrigins": ["not an origin"] })).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(422), Some(ErrorCode::ValidationFailed)));
    let err = acme.update_organization(acme_id, json!({ "owner": "me" })).await.unwrap_err();
    assert_eq!(err.status(), Some(422), "unknown fields are refused");
    let ctx = acme.build_organization_context(acme_id).await.unwrap();
    let text = ctx.ai_context.unwrap();
    assert!(text.contains("Acme") && text.contains("ceramic"), "{text}");
    let members = acme.organization_members(acme_id).await.unwrap();
    assert_eq!((members.len(), members[0].role), (1, Role::Owner));
    app.server.stop().await;
}

#[tokio::test]
async fn plain_members_cannot_administer() {
    let app = start(&[]).await;
    let (ada, _, acme_id) = tenant(&app, "Acme", "ada@acme.io", "acme").await;
    let inv = ada.invite_member("grace@acme.io", Role::Member).await.unwrap();
    let grace_token = app.browser().sign_up("Grace", "grace@acme.io", PASSWORD).await.unwrap().token;
    let grace = app.browser().with_session(grace_token);
    grace.accept_invitation(inv.id).await.unwrap();
    let grace_svc = app.client().with_internal_key(KEY).with_bearer(grace.token().await.unwrap());
    assert_eq!(grace_svc.organization(acme_id).await.unwrap().id, acme_id, "members read");
    let err = grace_svc.update_organization(acme_id, json!({ "name": "Mine" })).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "members do not administer");
    let me = grace_svc.me().await.unwrap();
    let perms = grace_svc.user_permissions(me.id).await.unwrap();
    assert_eq!(perms["role"], "member");
    assert!(!perms["permissions"].as_array().unwrap().iter().any(|p| p == "members:invite"));
    app.server.stop().await;
}

#[tokio::test]
async fn users_are_visible_only_inside_their_organization() {
    let app = start(&[]).await;
    let (_, acme, _) = tenant(&app, "Acme", "ada@acme.io", "acme").await;
    let (_, beta, _) = tenant(&app, "Beta", "bob@beta.io", "beta").await;
    let ada = acme.me().await.unwrap();
    let bob = beta.me().await.unwrap();
    assert_eq!(ada.email, "ada@acme.io");
    assert_eq!(acme.user(ada.id).await.unwrap().id, ada.id);
    assert_eq!(acme.user(bob.id).await.unwrap_err().status(), Some(404), "another tenant's user does not exist here");
    assert_eq!(acme.search_users("ada").await.unwrap().len(), 1);
    assert!(acme.search_users("bob").await.unwrap().is_empty());
    assert_eq!(acme.rename_user(ada.id, "Ada L.").await.unwrap().name, "Ada L.");
    assert_eq!(acme.rename_user(bob.id, "Hacked").await.unwrap_err().status(), Some(403));

    // Profile pictures: type and size are checked; only one's own.
    let with_picture = acme.set_user_picture(ada.id, PNG.to_vec()).await.unwrap();
    assert_eq!(with_picture.image.as_deref(), Some(format!("/api/v1/users/{}/picture", ada.id).as_str()));
    assert_eq!(acme.user_picture(ada.id).await.unwrap(), PNG);
    let err = acme.set_user_picture(ada.id, b"<svg onload=alert(1)>".to_vec()).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(415), Some(ErrorCode::UnsupportedMediaType)));
    let mut big = PNG.to_vec();
    big.resize(3 * 1024 * 1024, 0);
    let err = acme.set_user_picture(ada.id, big).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(413), Some(ErrorCode::PayloadTooLarge)));
    assert_eq!(beta.set_user_picture(ada.id, PNG.to_vec()).await.unwrap_err().status(), Some(403));
    assert_eq!(beta.user_picture(ada.id).await.unwrap_err().status(), Some(404));
    app.server.stop().await;
}

#[tokio::test]
async fn an_api_key_reaches_the_services_through_a_system_token() {
    let app = start(&[]).await;
    let (browser, _, acme_id) = tenant(&app, "Acme", "ada@acme.io", "acme").await;
    let key = browser.create_api_key(&CreateApiKey::default()).await.unwrap().key;
    let service = app.client().with_service_key(SERVICE_KEY);
    let system = service.system_token(&key).await.unwrap();
    let integration = app.client().with_internal_key(KEY).with_bearer(system);
    assert_eq!(integration.organization(acme_id).await.unwrap().slug, "acme");
    // The gateway's API-key path: the owner's membership, from the users service.
    let v = service.verify_api_key(&key).await.unwrap();
    let me = integration.me().await.unwrap();
    assert_eq!(Some(me.id), v.user_id);
    app.server.stop().await;
}

#[tokio::test]
async fn owners_delete_organizations_and_users_delete_themselves() {
    let app = start(&[]).await;
    let (ada_browser, acme, acme_id) = tenant(&app, "Acme", "ada@acme.io", "acme").await;
    let ada = acme.me().await.unwrap();
    // The last owner cannot leave by deleting their account.
    let err = acme.delete_user(ada.id).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(409), Some(ErrorCode::Conflict)));
    // A member cannot delete the organization.
    let inv = ada_browser.invite_member("grace@acme.io", Role::Admin).await.unwrap();
    let grace =
        app.browser().with_session(app.browser().sign_up("Grace", "grace@acme.io", PASSWORD).await.unwrap().token);
    grace.accept_invitation(inv.id).await.unwrap();
    let grace_svc = app.client().with_internal_key(KEY).with_bearer(grace.token().await.unwrap());
    assert_eq!(grace_svc.delete_organization(acme_id).await.unwrap_err().status(), Some(403));
    // The owner deletes it: gone for everyone, and its auth records too.
    acme.delete_organization(acme_id).await.unwrap();
    assert_eq!(acme.organization(acme_id).await.unwrap_err().status(), Some(404));
    assert!(ada_browser.list_organizations().await.unwrap().is_empty());
    assert!(grace.list_organizations().await.unwrap().is_empty());
    // Now Ada may delete her account; her session dies with it.
    acme.delete_user(ada.id).await.unwrap();
    assert!(ada_browser.get_session().await.unwrap().is_none());
    app.server.stop().await;
}
