//! JWTs between CROW services: EdDSA (Ed25519) only.
//!
//! The auth service signs short-lived tokens (`services::auth::keys`); every service verifies
//! them here. The verifier is deliberately narrow: it accepts `alg: EdDSA` and nothing else
//! (no `none`, no HMAC — so a public key can never be used as an HMAC secret), requires `kid`,
//! `exp`, `nbf`, `iss` and `aud`, and never reads `jku`, `x5u` or `jwk` headers (keys come only
//! from the configured JWKS source). The JWKS is cached for 5 minutes; an unknown `kid` triggers
//! at most one refetch per 30 seconds, so forged kids cannot turn the verifier into a
//! request amplifier.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crow_core::Timestamp;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::sync::RwLock;

use tokio::sync::Mutex;

/// How long tokens live.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How long anonymous session tokens live: the gateway reuses one per client address for an
/// hour, so each lives a little longer than that and is never forwarded about to expire.
pub const ANONYMOUS_TOKEN_LIFETIME: Duration = Duration::from_secs(65 * 60);
/// The longest any token lives: how long a retired signing key stays published.
pub const LONGEST_TOKEN_LIFETIME: Duration = ANONYMOUS_TOKEN_LIFETIME;
const JWKS_TTL: Duration = Duration::from_secs(5 * 60);
const MIN_REFETCH: Duration = Duration::from_secs(30);

/// Claims CROW puts in its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: the auth service's public URL.
    pub iss: String,
    /// Audience: the API's public URL.
    pub aud: Audience,
    /// Subject: the user id, `service:NAME`, or `anon:ID` for an anonymous session.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// The user's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The active organization.
    #[serde(default, rename = "organizationId", skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The caller's role in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// `aud` is a string or an array of strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// One public key in a JWKS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id.
    pub kid: String,
    /// `EdDSA`.
    #[serde(default)]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The JWK of an Ed25519 public key.
    pub fn ed25519(kid: &str, key: &VerifyingKey) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
            kid: kid.into(),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
        }
    }

    fn verifying_key(&self) -> Option<VerifyingKey> {
        if self.kty != "OKP" || self.crv != "Ed25519" || self.alg.as_deref().is_some_and(|a| a != "EdDSA") {
            return None;
        }
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&self.x).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }
}

/// `GET /jwks` body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
}

/// Signs `claims` with `key`, naming it `kid`.
pub fn sign(key: &SigningKey, kid: &str, claims: &Claims) -> Result<String, serde_json::Error> {
    let header = serde_json::to_vec(&Header { alg: "EdDSA".into(), kid: Some(kid.into()), typ: Some("JWT".into()) })?;
    let payload = serde_json::to_vec(claims)?;
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
}

/// Why a token was refused. Callers answer 401 whatever the reason; the reason is for logs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not `EdDSA`.
    #[error("algorithm not allowed")]
    Algorithm,
    /// No `kid`, or a `kid` not in the JWKS.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// Expired.
    #[error("token expired")]
    Expired,
    /// Not yet valid.
    #[error("token not yet valid")]
    NotYetValid,
    /// Wrong issuer or audience.
    #[error("wrong issuer or audience")]
    Claims,
    /// The JWKS could not be fetched.
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

/// Where a verifier gets public keys.
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// The current JWKS.
    async fn fetch(&self) -> Result<Jwks, String>;
}

struct Cached {
    keys: HashMap<String, VerifyingKey>,
    fetched: Option<Instant>,
}

/// Verifies CROW JWTs.
pub struct Verifier {
    source: Arc<dyn JwksSource>,
    issuer: String,
    audience: String,
    cache: RwLock<Cached>,
    last_refetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier accepting tokens from `issuer` for `audience`, with keys from `source`.
    pub fn new(source: Arc<dyn JwksSource>, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            source,
            issuer: issuer.into(),
            audience: audience.into(),
            cache: RwLock::new(Cached { keys: HashMap::new(), fetched: None }),
            last_refetch: Mutex::new(None),
        }
    }

    async fn refresh(&self) -> Result<(), JwtError> {
        let jwks = self.source.fetch().await.map_err(|e| {
            tracing::warn!(error = %e, "cannot fetch JWKS");
            JwtError::KeysUnavailable
        })?;
        let keys = jwks.keys.iter().filter_map(|k| k.verifying_key().map(|v| (k.kid.clone(), v))).collect();
        if let Ok(mut cache) = self.cache.write() {
            *cache = Cached { keys, fetched: Some(Instant::now()) };
        }
        Ok(())
    }

    /// The cached key for `kid` and whether the cache is fresh. A std lock: it is never held
    /// across an await, and it keeps the hot path to a few nanoseconds.
    fn cached(&self, kid: &str) -> (Option<VerifyingKey>, bool) {
        match self.cache.read() {
            Ok(cache) => (cache.keys.get(kid).copied(), cache.fetched.is_some_and(|t| t.elapsed() < JWKS_TTL)),
            Err(_) => (None, false),
        }
    }

    async fn key(&self, kid: &str) -> Result<VerifyingKey, JwtError> {
        let (found, fresh) = self.cached(kid);
        if let (Some(key), true) = (found, fresh) {
            return Ok(key);
        }
        if fresh {
            // A kid we have not seen (a rotation, or a forgery): refetch at most once per
            // MIN_REFETCH, however many such tokens arrive.
            let mut last = self.last_refetch.lock().await;
            if last.is_none_or(|t| t.elapsed() >= MIN_REFETCH) {
                *last = Some(Instant::now());
                self.refresh().await?;
            }
        } else {
            self.refresh().await?;
        }
        self.cached(kid).0.ok_or(JwtError::UnknownKey)
    }

    /// Verifies `token` at time `now`.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwtError::Malformed);
        };
        let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|_| JwtError::Malformed)?)
            .map_err(|_| JwtError::Malformed)?;
        if header.alg != "EdDSA" {
            return Err(JwtError::Algorithm);
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        let signature: [u8; 64] =
            URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?.try_into().map_err(|_| JwtError::Signature)?;
        let key = self.key(&kid).await?;
        key.verify_strict(format!("{h}.{p}").as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| JwtError::Signature)?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Malformed)?)
            .map_err(|_| JwtError::Malformed)?;
        let now_s = now.as_millis().div_euclid(1000);
        if claims.exp <= now_s {
            return Err(JwtError::Expired);
        }
        if claims.nbf > now_s {
            return Err(JwtError::NotYetValid);
        }
        if claims.iss != self.issuer || !claims.aud.contains(&self.audience) {
            return Err(JwtError::Claims);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fixed(Jwks, AtomicUsize);

    #[async_trait]
    impl JwksSource for Fixed {
        async fn fetch(&self) -> Result<Jwks, String> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Ok(self.0.clone())
        }
    }

    const NOW: i64 = 1_800_000_000_000;

    fn setup() -> (SigningKey, Arc<Fixed>, Verifier) {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let source =
            Arc::new(Fixed(Jwks { keys: vec![Jwk::ed25519("k1", &key.verifying_key())] }, AtomicUsize::new(0)));
        let verifier = Verifier::new(source.clone(), "https://api.crow.test", "https://api.crow.test");
        (key, source, verifier)
    }

    fn claims() -> Claims {
        Claims {
            iss: "https://api.crow.test".into(),
            aud: Audience::One("https://api.crow.test".into()),
            sub: "user-1".into(),
            exp: NOW / 1000 + 900,
            nbf: NOW / 1000 - 1,
            iat: NOW / 1000,
            email: None,
            organization_id: Some("org-1".into()),
            role: Some("owner".into()),
        }
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[tokio::test]
    async fn accepts_a_good_token() {
        let (key, _, v) = setup();
        let token = sign(&key, "k1", &claims()).unwrap();
        assert_eq!(v.verify(&token, Timestamp::from_millis(NOW)).await.unwrap(), claims());
    }

    #[tokio::test]
    async fn refuses_every_forgery() {
        let (key, _, v) = setup();
        let now = Timestamp::from_millis(NOW);
        let good = sign(&key, "k1", &claims()).unwrap();
        let payload = good.split('.').nth(1).unwrap();

        let none = format!("{}.{payload}.", b64(&serde_json::json!({"alg": "none", "kid": "k1"})));
        assert_eq!(v.verify(&none, now).await, Err(JwtError::Algorithm));

        // HS256 "signed" with the public key as the HMAC secret: refused on alg alone.
        let hs = format!("{}.{payload}.c2ln", b64(&serde_json::json!({"alg": "HS256", "kid": "k1"})));
        assert_eq!(v.verify(&hs, now).await, Err(JwtError::Algorithm));

        let mut tampered_claims = claims();
        tampered_claims.organization_id = Some("org-2".into());
        let parts: Vec<&str> = good.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(&serde_json::to_value(&tampered_claims).unwrap()), parts[2]);
        assert_eq!(v.verify(&tampered, now).await, Err(JwtError::Signature));

        let other_key = SigningKey::from_bytes(&[9u8; 32]);
        assert_eq!(v.verify(&sign(&other_key, "k1", &claims()).unwrap(), now).await, Err(JwtError::Signature));
        assert_eq!(v.verify(&sign(&key, "unknown", &claims()).unwrap(), now).await, Err(JwtError::UnknownKey));

        let expired = Claims { exp: NOW / 1000 - 1, ..claims() };
        assert_eq!(v.verify(&sign(&key, "k1", &expired).unwrap(), now).await, Err(JwtError::Expired));
        let early = Claims { nbf: NOW / 1000 + 60, ..claims() };
        assert_eq!(v.verify(&sign(&key, "k1", &early).unwrap(), now).await, Err(JwtError::NotYetValid));
        let wrong_aud = Claims { aud: Audience::One("https://evil.test".into()), ..claims() };
        assert_eq!(v.verify(&sign(&key, "k1", &wrong_aud).unwrap(), now).await, Err(JwtError::Claims));
        let wrong_iss = Claims { iss: "https://evil.test".into(), ..claims() };
        assert_eq!(v.verify(&sign(&key, "k1", &wrong_iss).unwrap(), now).await, Err(JwtError::Claims));

        // A `jwk` header offering the attacker's own key is ignored.
        let evil = SigningKey::from_bytes(&[3u8; 32]);
        let header =
            b64(&serde_json::json!({"alg": "EdDSA", "kid": "k1", "jwk": Jwk::ed25519("k1", &evil.verifying_key())}));
        let input = format!("{header}.{payload}");
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(evil.sign(input.as_bytes()).to_bytes()));
        assert_eq!(v.verify(&forged, now).await, Err(JwtError::Signature));

        assert_eq!(v.verify("a.b", now).await, Err(JwtError::Malformed));
    }

    #[tokio::test]
    async fn unknown_kids_refetch_at_most_once_per_window() {
        let (key, source, v) = setup();
        let now = Timestamp::from_millis(NOW);
        v.verify(&sign(&key, "k1", &claims()).unwrap(), now).await.unwrap();
        for _ in 0..20 {
            let _ = v.verify(&sign(&key, "nope", &claims()).unwrap(), now).await;
        }
        assert_eq!(source.1.load(Ordering::SeqCst), 2, "one initial fetch, one refetch for unknown kids");
    }
}
