//! Auth logic with a controlled clock: expiry and sliding refresh, which end-to-end tests on the
//! wall clock cannot reach.

use std::sync::Arc;

use crow_core::api::auth::Verification;
use crow_core::domain::ApiKeyKind;
use crow_core::ports::auth::AuthStore;
use crow_core::ports::clock::{Clock, ManualClock};
use crow_core::tenancy::Role;
use crow_core::{ErrorCode, Timestamp};
use crow_server::backends::sqlite::{SqliteAuthStore, SqliteDatabase};
use crow_server::services::auth::keys::KeyRing;
use crow_server::services::auth::password::Hasher;
use crow_server::services::auth::service::{AuthError, AuthService, NewKey, Settings};
use secrecy::SecretString;

const DAY: i64 = 24 * 60 * 60 * 1000;
const PASSWORD: &str = "correct horse battery";

struct Fixture {
    auth: AuthService,
    clock: Arc<ManualClock>,
    store: Arc<dyn AuthStore>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("crow.db")).await.unwrap();
    let store: Arc<dyn AuthStore> = Arc::new(SqliteAuthStore::new(db.pool().clone()));
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_800_000_000_000)));
    let secret = SecretString::from("s".repeat(40));
    let keys = KeyRing::open(Arc::clone(&store), clock.clone(), &secret).await.unwrap();
    let settings =
        Settings { public_url: "http://localhost:8080".into(), blocked_email_domains: vec!["gmail.com".into()] };
    let auth =
        AuthService::new(Arc::clone(&store), Hasher::new(2, 8).unwrap(), Arc::new(keys), clock.clone(), settings);
    Fixture { auth, clock, store, _dir: dir }
}

fn refused(e: AuthError) -> ErrorCode {
    match e {
        AuthError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_slide_while_used_and_expire_when_not() {
    let f = fixture().await;
    let s = f.auth.sign_up("Ada", "ada@acme.io", PASSWORD.into(), None, None, None).await.unwrap();
    let first_expiry = s.session.expires_at;
    // Within a day: valid, not refreshed.
    f.clock.advance(DAY / 2);
    let a = f.auth.authenticate(&s.token).await.unwrap().unwrap();
    assert!(!a.refreshed);
    // After a day of use: slid forward by a fresh 7 days.
    f.clock.advance(DAY);
    let a = f.auth.authenticate(&s.token).await.unwrap().unwrap();
    assert!(a.refreshed);
    assert!(a.session.expires_at > first_expiry);
    // Unused for 7 days: gone, and deleted.
    f.clock.advance(7 * DAY + 1);
    assert!(f.auth.authenticate(&s.token).await.unwrap().is_none());
    assert!(f.store.find_session(&crow_server::services::auth::tokens::digest(&s.token)).await.unwrap().is_none());
}

#[tokio::test]
async fn invitations_expire_after_two_days() {
    let f = fixture().await;
    let ada = f.auth.sign_up("Ada", "ada@acme.io", PASSWORD.into(), None, None, None).await.unwrap();
    let ada = f.auth.authenticate(&ada.token).await.unwrap().unwrap();
    f.auth.create_organization(&ada, "Acme", "acme", None, None, false).await.unwrap();
    let ada = f.auth.authenticate(&ada.token).await.unwrap().unwrap();
    let invitation = f.auth.invite(&ada, "grace@acme.io", Role::Member, None).await.unwrap();
    let grace = f.auth.sign_up("Grace", "grace@acme.io", PASSWORD.into(), None, None, None).await.unwrap();
    f.clock.advance(2 * DAY + 1);
    let grace = f.auth.authenticate(&grace.token).await.unwrap().unwrap();
    let err = f.auth.accept_invitation(&grace, invitation.id).await.unwrap_err();
    assert_eq!(refused(err), ErrorCode::InvitationNotFound);
}

#[tokio::test]
async fn api_keys_expire_and_rate_windows_reset() {
    let f = fixture().await;
    let ada = f.auth.sign_up("Ada", "ada@acme.io", PASSWORD.into(), None, None, None).await.unwrap();
    let ada = f.auth.authenticate(&ada.token).await.unwrap().unwrap();
    f.auth.create_organization(&ada, "Acme", "acme", None, None, false).await.unwrap();
    let ada = f.auth.authenticate(&ada.token).await.unwrap().unwrap();
    let (_, expiring) =
        f.auth.create_api_key(&ada, NewKey { expires_in: Some(3600), ..Default::default() }).await.unwrap();
    assert!(f.auth.verify_api_key(&expiring).await.unwrap().valid);
    f.clock.advance(3600 * 1000);
    assert_eq!(f.auth.verify_api_key(&expiring).await.unwrap(), Verification::invalid("KEY_EXPIRED"));

    let (_, limited) = f
        .auth
        .create_api_key(
            &ada,
            NewKey {
                kind: Some(ApiKeyKind::Secret),
                rate_limit_enabled: Some(true),
                rate_limit_max: Some(1),
                rate_limit_time_window: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(f.auth.verify_api_key(&limited).await.unwrap().valid);
    assert_eq!(f.auth.verify_api_key(&limited).await.unwrap().error.as_deref(), Some("RATE_LIMITED"));
    f.clock.advance(1000);
    assert!(f.auth.verify_api_key(&limited).await.unwrap().valid, "a new window");
}

#[tokio::test]
async fn signing_keys_rotate_and_old_ones_stay_published_while_tokens_live() {
    let f = fixture().await;
    let first = f.auth.keys().jwks().await.unwrap();
    assert_eq!(first.keys.len(), 1);
    let new_kid = f.auth.keys().rotate().await.unwrap();
    let both = f.auth.keys().jwks().await.unwrap();
    assert_eq!(both.keys.len(), 2, "the retired key stays while its tokens may live");
    assert!(both.keys.iter().any(|k| k.kid == new_kid.to_string()));
    // Session tokens live 15 minutes, anonymous session tokens longer: the key stays for those.
    f.clock.advance(16 * 60 * 1000);
    assert_eq!(f.auth.keys().jwks().await.unwrap().keys.len(), 2, "anonymous tokens may still live");
    let longest = i64::try_from(crow_server::jwt::LONGEST_TOKEN_LIFETIME.as_millis()).unwrap();
    f.clock.advance(longest - 16 * 60 * 1000 + 1000);
    f.auth.keys().rotate().await.unwrap();
    let later = f.auth.keys().jwks().await.unwrap();
    assert_eq!(later.keys.len(), 2, "the first key is gone once its tokens expired");
    assert!(!later.keys.iter().any(|k| k.kid == first.keys[0].kid));
    // Keys survive a restart and stay sealed: a wrong auth secret cannot open them.
    let wrong = KeyRing::open(Arc::clone(&f.store), f.clock.clone(), &SecretString::from("w".repeat(40))).await;
    assert!(wrong.is_err());
    let _: Timestamp = f.clock.now();
}

#[tokio::test]
async fn private_keys_are_never_stored_in_the_clear() {
    let f = fixture().await;
    let stored = f.store.signing_keys().await.unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&stored[0].public_jwk).unwrap();
    assert!(jwk.get("d").is_none(), "no private component in the public JWK");
    assert_eq!(stored[0].sealed_private_key.len(), 24 + 32 + 16, "nonce + ciphertext + tag");
}
