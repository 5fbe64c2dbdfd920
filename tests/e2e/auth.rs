//! The auth service end to end: the happy path a new customer walks, then every kind of bad
//! input with its expected status and code.

use std::sync::Arc;

use async_trait::async_trait;
use crow_client::{Client, Error, HttpMethod};
use crow_core::api::auth::CreateApiKey;
use crow_core::domain::ApiKeyKind;
use crow_core::tenancy::{Caller, Principal, Role, TenancyError};
use crow_core::{ErrorCode, Timestamp};
use crow_server::jwt::{Jwks, JwksSource, JwtError, Verifier};

use crate::support::{ORIGIN, Running, SERVICE_KEY, start};

const PASSWORD: &str = "correct horse battery";

/// Fetches the JWKS over HTTP through the public route, as a split service would.
struct HttpJwks(Client);

#[async_trait]
impl JwksSource for HttpJwks {
    async fn fetch(&self) -> Result<Jwks, String> {
        let value = self.0.jwks().await.map_err(|e| e.to_string())?;
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

async fn signed_in(app: &Running, name: &str, email: &str) -> Client {
    let token = app.browser().sign_up(name, email, PASSWORD).await.unwrap().token;
    app.browser().with_session(token)
}

fn code(e: &Error) -> Option<ErrorCode> {
    e.code()
}

#[tokio::test]
async fn a_customer_signs_up_creates_an_org_and_integrates() {
    let app = start(&[]).await;
    // Sign up, then sign in again.
    let up = app.browser().sign_up("Ada", "Ada@Acme.io ", PASSWORD).await.unwrap();
    assert_eq!(up.user.email, "ada@acme.io", "emails are normalised");
    let signed = app.browser().sign_in("ada@acme.io", PASSWORD).await.unwrap();
    assert_ne!(signed.token, up.token, "every sign-in is a new session");
    let ada = app.browser().with_session(signed.token.clone());
    let session = ada.get_session().await.unwrap().expect("a live session");
    assert_eq!(session.user.id, up.user.id);
    assert_eq!(session.session.active_organization_id, None);

    // Create an organization: owner, and it becomes active.
    let org = ada.create_organization("Acme", "acme").await.unwrap();
    assert_eq!(org.members.len(), 1);
    assert_eq!(org.members[0].role, Role::Owner);
    assert_eq!(ada.get_session().await.unwrap().unwrap().session.active_organization_id, Some(org.organization.id));
    assert_eq!(ada.list_organizations().await.unwrap().len(), 1);
    // set-active explicitly (clear, then set back).
    assert!(ada.set_active_organization(None).await.unwrap().is_none());
    let active = ada.set_active_organization(Some(org.organization.id)).await.unwrap().unwrap();
    assert_eq!(active.organization.slug, "acme");

    // A JWT for the session verifies against the published JWKS.
    let jwt = ada.token().await.unwrap();
    let verifier = Verifier::new(Arc::new(HttpJwks(app.client())), "http://localhost:8080", "http://localhost:8080");
    let claims = verifier.verify(&jwt, Timestamp::now()).await.unwrap();
    assert_eq!(claims.sub, up.user.id.to_string());
    assert_eq!(claims.organization_id, Some(org.organization.id.to_string()));
    assert_eq!(claims.role.as_deref(), Some("owner"));
    let tampered = format!("{}x", &jwt[..jwt.len() - 1]);
    assert!(verifier.verify(&tampered, Timestamp::now()).await.is_err());

    // An API key, verified by a service.
    let key = ada.create_api_key(&CreateApiKey { name: Some("ci".into()), ..Default::default() }).await.unwrap();
    assert!(key.key.starts_with("crow_sk_") && key.key.len() >= 40);
    assert_eq!(key.record.start.as_deref(), Some(&key.key[..12]));
    let listed = ada.list_api_keys().await.unwrap();
    assert_eq!(listed.total, 1);
    assert!(!serde_json::to_string(&listed).unwrap().contains(&key.key), "the full key is shown only once");
    let service = app.client().with_service_key(SERVICE_KEY);
    let v = service.verify_api_key(&key.key).await.unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(
        (v.user_id, v.organization_id, v.kind),
        (Some(up.user.id), Some(org.organization.id), Some(ApiKeyKind::Secret))
    );
    let system = service.system_token(&key.key).await.unwrap();
    assert_eq!(
        verifier.verify(&system, Timestamp::now()).await.unwrap().organization_id,
        Some(org.organization.id.to_string())
    );

    // Invite a colleague, who accepts and then sees the organization.
    let invitation = ada.invite_member("grace@acme.io", Role::Admin).await.unwrap();
    let grace = signed_in(&app, "Grace", "grace@acme.io").await;
    let accepted = grace.accept_invitation(invitation.id).await.unwrap();
    assert_eq!(accepted.member.role, Role::Admin);
    assert_eq!(grace.list_organizations().await.unwrap()[0].id, org.organization.id);
    assert_eq!(grace.get_session().await.unwrap().unwrap().session.active_organization_id, Some(org.organization.id));
    let members = grace.list_members().await.unwrap();
    assert_eq!(members.total, 2);

    // The internal organization record follows through the outbox (by-auth-id resolves).
    let store = crow_server::backends::sqlite::SqliteDatabase::open(&app._dir.path().join("crow.db")).await.unwrap();
    let resolved = async {
        for _ in 0..100 {
            let row: Option<(Vec<u8>,)> = sqlx_free_query(&store, &org.organization.id.to_string()).await;
            if let Some(row) = row {
                return row.0;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("organization was not synced");
    };
    assert_eq!(resolved.await, org.organization.id.as_bytes().to_vec());

    // Sign-out revokes the session and clears the cookie.
    let out =
        ada.raw(HttpMethod::POST, "/api/v1/auth/sign-out", Some("application/json"), b"{}".to_vec()).await.unwrap();
    assert_eq!(out.status, 200);
    assert!(
        out.set_cookies.iter().any(|c| c.starts_with("better-auth.session_token=;") && c.contains("Max-Age=0")),
        "{:?}",
        out.set_cookies
    );
    assert!(ada.get_session().await.unwrap().is_none());
    assert_eq!(code(&ada.token().await.unwrap_err()), Some(ErrorCode::Unauthorized));
    app.server.stop().await;
}

/// Looks the internal organization up by auth id through the organizations store.
async fn sqlx_free_query(db: &crow_server::backends::sqlite::SqliteDatabase, auth_id: &str) -> Option<(Vec<u8>,)> {
    use crow_core::ports::store::OrganizationStore;
    let store = crow_server::backends::sqlite::SqliteOrganizationStore::new(db.pool().clone());
    store.resolve_auth_id(auth_id).await.ok().map(|id| (id.as_bytes().to_vec(),))
}

#[tokio::test]
async fn sign_up_input_is_checked() {
    let app = start(&[]).await;
    let c = app.browser();
    c.sign_up("Ada", "ada@acme.io", PASSWORD).await.unwrap();
    let cases = [
        ("ada@acme.io", PASSWORD, ErrorCode::UserAlreadyExists, 422),
        ("ADA@acme.io", PASSWORD, ErrorCode::UserAlreadyExists, 422),
        ("bob@acme.io", "short", ErrorCode::PasswordTooShort, 400),
        ("bob@acme.io", &"x".repeat(129), ErrorCode::PasswordTooLong, 400),
        ("bob@gmail.com", PASSWORD, ErrorCode::EmailDomainNotAllowed, 400),
        ("not-an-email", PASSWORD, ErrorCode::InvalidEmail, 400),
    ];
    for (email, password, expected, status) in cases {
        let err = c.sign_up("Bob", email, password).await.unwrap_err();
        assert_eq!((code(&err), err.status()), (Some(expected), Some(status)), "{email}");
    }
    // Malformed JSON, wrong shape, and an oversized body.
    let raw =
        |body: &[u8]| c.raw(HttpMethod::POST, "/api/v1/auth/sign-up/email", Some("application/json"), body.to_vec());
    let r = raw(b"{not json").await.unwrap();
    assert_eq!((r.status, r.error().unwrap().code.as_str()), (400, "INVALID_JSON"));
    let r = raw(br#"{"email": 5}"#).await.unwrap();
    assert_eq!(r.status, 400);
    let big = format!(r#"{{"name":"{}","email":"a@b.io","password":"x"}}"#, "n".repeat(2 << 20));
    let r = raw(big.as_bytes()).await.unwrap();
    assert_eq!((r.status, r.error().unwrap().code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
    app.server.stop().await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = start(&[]).await;
    app.browser().sign_up("Ada", "ada@acme.io", PASSWORD).await.unwrap();
    let unknown = app.browser().sign_in("nobody@acme.io", PASSWORD).await.unwrap_err();
    let wrong = app.browser().sign_in("ada@acme.io", "wrong password!").await.unwrap_err();
    for e in [&unknown, &wrong] {
        assert_eq!(e.status(), Some(401));
        assert_eq!(code(e), Some(ErrorCode::InvalidEmailOrPassword));
    }
    assert_eq!(unknown.to_string(), wrong.to_string());
    app.server.stop().await;
}

#[tokio::test]
async fn sessions_must_be_real_and_cookie_writes_need_a_trusted_origin() {
    let app = start(&[]).await;
    let token = app.browser().sign_up("Ada", "ada@acme.io", PASSWORD).await.unwrap().token;
    // Forged and absent sessions: get-session answers null, protected routes 401.
    let forged = app.browser().with_session("forged-token-forged-token-forged-token-00000");
    assert!(forged.get_session().await.unwrap().is_none());
    assert!(app.client().get_session().await.unwrap().is_none());
    assert_eq!(forged.token().await.unwrap_err().status(), Some(401));
    // CSRF: a cookie-carrying POST with no Origin, an evil one, a look-alike or `null` is refused.
    for origin in [None, Some("https://evil.example"), Some("http://localhost.evil.com"), Some("null")] {
        let mut c = app.client().with_session(token.clone());
        if let Some(o) = origin {
            c = c.with_origin(o);
        }
        let err = c.create_organization("Acme", "acme").await.unwrap_err();
        assert_eq!((err.status(), code(&err)), (Some(403), Some(ErrorCode::InvalidOrigin)), "{origin:?}");
    }
    let ok = app.client().with_session(token.clone()).with_origin(ORIGIN).create_organization("Acme", "acme").await;
    assert!(ok.is_ok());
    // Revoked: after sign-out the same token is dead.
    let ada = app.browser().with_session(token);
    ada.sign_out().await.unwrap();
    assert!(ada.get_session().await.unwrap().is_none());
    app.server.stop().await;
}

#[tokio::test]
async fn organization_rules_hold() {
    let app = start(&[]).await;
    let ada = signed_in(&app, "Ada", "ada@acme.io").await;
    let org = ada.create_organization("Acme", "acme").await.unwrap();
    let err = ada.create_organization("Acme 2", "acme").await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::OrganizationAlreadyExists));
    assert_eq!(
        code(&ada.create_organization("Bad", "Not A Slug").await.unwrap_err()),
        Some(ErrorCode::ValidationFailed)
    );

    let mallory = signed_in(&app, "Mallory", "mallory@evil.io").await;
    // Not a member: cannot activate, list members of, or invite into Acme.
    let err = mallory.set_active_organization(Some(org.organization.id)).await.unwrap_err();
    assert_eq!((err.status(), code(&err)), (Some(403), Some(ErrorCode::NotAMember)));
    assert_eq!(code(&mallory.list_members().await.unwrap_err()), Some(ErrorCode::NoActiveOrganization));

    // An invitation is for one email only.
    let invitation = ada.invite_member("grace@acme.io", Role::Member).await.unwrap();
    let err = mallory.accept_invitation(invitation.id).await.unwrap_err();
    assert_eq!((err.status(), code(&err)), (Some(403), Some(ErrorCode::NotInvitationRecipient)));
    let grace = signed_in(&app, "Grace", "grace@acme.io").await;
    grace.accept_invitation(invitation.id).await.unwrap();
    let err = grace.accept_invitation(invitation.id).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::InvitationNotFound), "an invitation is used once");
    // A plain member cannot invite or remove others.
    assert_eq!(code(&grace.invite_member("x@acme.io", Role::Member).await.unwrap_err()), Some(ErrorCode::NotAllowed));
    assert_eq!(code(&grace.remove_member("ada@acme.io").await.unwrap_err()), Some(ErrorCode::NotAllowed));
    // The owner removes the member, who then no longer sees the organization.
    ada.remove_member("grace@acme.io").await.unwrap();
    assert!(grace.list_organizations().await.unwrap().is_empty());
    assert_eq!(
        code(&ada.remove_member("ada@acme.io").await.unwrap_err()),
        Some(ErrorCode::NotAllowed),
        "last owner stays"
    );
    app.server.stop().await;
}

#[tokio::test]
async fn api_keys_are_refused_when_disabled_exhausted_deleted_or_foreign() {
    let app = start(&[]).await;
    let ada = signed_in(&app, "Ada", "ada@acme.io").await;
    let acme = ada.create_organization("Acme", "acme").await.unwrap().organization.id;
    let service = app.client().with_service_key(SERVICE_KEY);
    let new_key = |req: CreateApiKey| {
        let ada = ada.clone();
        async move { ada.create_api_key(&req).await.unwrap() }
    };

    let disabled = new_key(CreateApiKey::default()).await;
    ada.set_api_key_enabled(disabled.record.id, false).await.unwrap();
    assert_eq!(service.verify_api_key(&disabled.key).await.unwrap().error.as_deref(), Some("KEY_DISABLED"));
    ada.set_api_key_enabled(disabled.record.id, true).await.unwrap();
    assert!(service.verify_api_key(&disabled.key).await.unwrap().valid);

    let once = new_key(CreateApiKey { remaining: Some(1), ..Default::default() }).await;
    let first = service.verify_api_key(&once.key).await.unwrap();
    assert_eq!((first.valid, first.remaining), (true, Some(0)));
    assert_eq!(service.verify_api_key(&once.key).await.unwrap().error.as_deref(), Some("USAGE_EXCEEDED"));

    let limited = new_key(CreateApiKey {
        rate_limit_enabled: Some(true),
        rate_limit_max: Some(2),
        rate_limit_time_window: Some(60_000),
        ..Default::default()
    })
    .await;
    assert!(service.verify_api_key(&limited.key).await.unwrap().valid);
    assert!(service.verify_api_key(&limited.key).await.unwrap().valid);
    let third = service.verify_api_key(&limited.key).await.unwrap();
    assert_eq!(third.error.as_deref(), Some("RATE_LIMITED"));
    assert!(third.try_again_in.is_some_and(|ms| ms > 0 && ms <= 60_000));

    let deleted = new_key(CreateApiKey::default()).await;
    ada.delete_api_key(deleted.record.id).await.unwrap();
    assert_eq!(service.verify_api_key(&deleted.key).await.unwrap().error.as_deref(), Some("KEY_NOT_FOUND"));
    assert_eq!(code(&ada.delete_api_key(deleted.record.id).await.unwrap_err()), Some(ErrorCode::KeyNotFound));
    assert_eq!(service.verify_api_key("crow_sk_made_up").await.unwrap().error.as_deref(), Some("KEY_NOT_FOUND"));

    // Verification needs the service key.
    let err = app.client().verify_api_key(&disabled.key).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let err = app
        .client()
        .with_service_key("wrong-wrong-wrong-wrong-wrong-wrong-00")
        .verify_api_key(&disabled.key)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));

    // A publishable key gets no token, and the caller built from it gets no read/write pass.
    let pk = new_key(CreateApiKey { kind: Some(ApiKeyKind::Publishable), ..Default::default() }).await;
    assert!(pk.key.starts_with("crow_pk_"));
    let v = service.verify_api_key(&pk.key).await.unwrap();
    assert_eq!(v.kind, Some(ApiKeyKind::Publishable));
    assert_eq!(service.system_token(&pk.key).await.unwrap_err().status(), Some(401));
    let caller =
        Caller::from_verified(Principal::PublishableKey { key_id: v.key_id.unwrap() }, v.organization_id, None);
    assert_eq!(caller.authorize(acme), Err(TenancyError::CredentialNotAllowed));

    // A key of organization A used on organization B's resources: the BOLA check refuses.
    let bob = signed_in(&app, "Bob", "bob@beta.io").await;
    let beta = bob.create_organization("Beta", "beta").await.unwrap().organization.id;
    let v = service.verify_api_key(&disabled.key).await.unwrap();
    let caller = Caller::from_verified(
        Principal::SecretKey { key_id: v.key_id.unwrap(), user_id: v.user_id.unwrap() },
        v.organization_id,
        v.role,
    );
    assert!(caller.authorize(acme).is_ok());
    assert_eq!(caller.authorize(beta), Err(TenancyError::Forbidden));

    // A member who leaves loses their keys' access.
    let grace = signed_in(&app, "Grace", "grace@acme.io").await;
    let inv = ada.invite_member("grace@acme.io", Role::Member).await.unwrap();
    grace.accept_invitation(inv.id).await.unwrap();
    let grace_key = grace.create_api_key(&CreateApiKey::default()).await.unwrap();
    assert!(service.verify_api_key(&grace_key.key).await.unwrap().valid);
    ada.remove_member("grace@acme.io").await.unwrap();
    assert_eq!(service.verify_api_key(&grace_key.key).await.unwrap().error.as_deref(), Some("NOT_A_MEMBER"));
    app.server.stop().await;
}

#[tokio::test]
async fn jwt_verification_refuses_tokens_for_another_audience() {
    let app = start(&[]).await;
    let ada = signed_in(&app, "Ada", "ada@acme.io").await;
    let jwt = ada.token().await.unwrap();
    let other = Verifier::new(Arc::new(HttpJwks(app.client())), "http://localhost:8080", "https://other.example");
    assert_eq!(other.verify(&jwt, Timestamp::now()).await, Err(JwtError::Claims));
    let later = Timestamp::now().add_millis(16 * 60 * 1000);
    let verifier = Verifier::new(Arc::new(HttpJwks(app.client())), "http://localhost:8080", "http://localhost:8080");
    assert_eq!(verifier.verify(&jwt, later).await, Err(JwtError::Expired), "tokens live 15 minutes");
    app.server.stop().await;
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_client() {
    // One request per 10 s sustained, bursts of 3: the 4th and 5th quick attempts are refused.
    let app = start(&[("CROW_AUTH_RATE_PER_MINUTE", "6"), ("CROW_AUTH_RATE_BURST", "3")]).await;
    let c = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = c
            .raw(
                HttpMethod::POST,
                "/api/v1/auth/sign-in/email",
                Some("application/json"),
                br#"{"email":"a@acme.io","password":"whatever!"}"#.to_vec(),
            )
            .await
            .unwrap();
        statuses.push((r.status, r.retry_after.clone()));
    }
    assert!(statuses[..3].iter().all(|(s, _)| *s == 401), "{statuses:?}");
    assert!(statuses[3..].iter().all(|(s, r)| *s == 429 && r.is_some()), "{statuses:?}");
    app.server.stop().await;
}

#[tokio::test]
async fn onboarding_is_resumable_and_refuses_skipped_steps() {
    use crow_core::domain::OnboardingStatus;
    use serde_json::json;
    let app = start(&[]).await;
    let ada = signed_in(&app, "Ada", "ada@acme.io").await;
    let org = ada.create_organization("Acme", "acme").await.unwrap().organization.id;
    assert!(ada.onboarding().await.unwrap().is_none());
    let err = ada.onboarding_step(json!({ "step": "organization", "organizationId": org })).await.unwrap_err();
    assert_eq!((err.status(), code(&err)), (Some(409), Some(ErrorCode::InvalidOnboardingStep)), "not started");

    let started = ada.start_onboarding().await.unwrap();
    assert_eq!((started.current_step, started.status), (1, OnboardingStatus::InProgress));
    // Skipping ahead is refused; nothing changes.
    let err = ada.onboarding_step(json!({ "step": "billing", "plan": "trial" })).await.unwrap_err();
    assert_eq!((err.status(), code(&err)), (Some(409), Some(ErrorCode::InvalidOnboardingStep)));
    // Someone else's organization is refused at the organization step.
    let bob = signed_in(&app, "Bob", "bob@beta.io").await;
    let beta = bob.create_organization("Beta", "beta").await.unwrap().organization.id;
    let err = ada.onboarding_step(json!({ "step": "organization", "organizationId": beta })).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::NotAMember));

    ada.onboarding_step(json!({ "step": "organization", "organizationId": org })).await.unwrap();
    ada.onboarding_step(json!({ "step": "profile", "name": "Ada Lovelace" })).await.unwrap();
    // Resumable: a new start returns the same flow where it was left.
    let resumed = ada.start_onboarding().await.unwrap();
    assert_eq!((resumed.id, resumed.current_step), (started.id, 3));
    let err = ada.onboarding_step(json!({ "step": "sources", "sources": ["fax"] })).await.unwrap_err();
    assert_eq!((err.status(), code(&err)), (Some(422), Some(ErrorCode::ValidationFailed)));
    ada.onboarding_step(json!({ "step": "sources", "sources": ["web", "social"] })).await.unwrap();
    ada.onboarding_step(json!({ "step": "products", "source": "crawl", "url": "https://shop.acme.io" })).await.unwrap();
    let done = ada.onboarding_step(json!({ "step": "billing", "plan": "trial" })).await.unwrap();
    assert_eq!(done.status, OnboardingStatus::Completed);
    assert_eq!(done.completed_steps, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        ada.get_session().await.unwrap().unwrap().user.name,
        "Ada Lovelace",
        "the profile step updated the user"
    );
    app.server.stop().await;
}

#[tokio::test]
async fn team_invitations_are_listed_and_cancelled_by_admins() {
    let app = start(&[]).await;
    let ada = signed_in(&app, "Ada", "ada@acme.io").await;
    ada.create_organization("Acme", "acme").await.unwrap();
    let first = ada.invite_member("grace@acme.io", Role::Member).await.unwrap();
    ada.invite_member("linus@acme.io", Role::Member).await.unwrap();
    assert_eq!(ada.team_invitations().await.unwrap().len(), 2);
    let grace = signed_in(&app, "Grace", "grace@acme.io").await;
    let mine = grace.my_invitations().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, first.id);
    assert_eq!(code(&grace.team_invitations().await.unwrap_err()), Some(ErrorCode::NoActiveOrganization));
    ada.cancel_invitation(first.id).await.unwrap();
    assert!(grace.my_invitations().await.unwrap().is_empty());
    assert_eq!(code(&grace.accept_invitation(first.id).await.unwrap_err()), Some(ErrorCode::InvitationNotFound));
    assert_eq!(code(&ada.cancel_invitation(first.id).await.unwrap_err()), Some(ErrorCode::InvitationNotFound));
    app.server.stop().await;
}
