//! JWT signing keys: Ed25519, generated on first start, kept in the `jwks` table with the
//! private half sealed (XChaCha20-Poly1305 under a key derived from the auth secret with HKDF,
//! the key id as associated data so a sealed key cannot be swapped between rows).
//!
//! Rotation makes a new key current and retires the old one; a retired key stays published
//! until every token it signed has expired (`LONGEST_TOKEN_LIFETIME`), then it is deleted.

use std::sync::Arc;

use async_trait::async_trait;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use crow_core::Timestamp;
use crow_core::id::JwksKeyId;
use crow_core::ports::auth::{AuthStore, StoredSigningKey};
use crow_core::ports::clock::Clock;
use crow_core::ports::store::StoreError;
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tokio::sync::RwLock;

use crate::jwt::{self, Claims, Jwk, Jwks, JwksSource, LONGEST_TOKEN_LIFETIME};

/// Why key handling failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Storage.
    #[error("signing key storage failed")]
    Store(#[from] StoreError),
    /// A sealed key does not open: the auth secret changed or the row was tampered with.
    #[error("cannot unseal signing key {0}: was CROW_AUTH_SECRET changed?")]
    Unseal(JwksKeyId),
    /// Randomness or encoding failed.
    #[error("signing key operation failed: {0}")]
    Crypto(String),
}

/// The current signing key and the published set.
pub struct KeyRing {
    store: Arc<dyn AuthStore>,
    clock: Arc<dyn Clock>,
    cipher: XChaCha20Poly1305,
    current: RwLock<Option<(JwksKeyId, SigningKey)>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

impl KeyRing {
    /// Loads the current key, creating the first one when there is none.
    pub async fn open(
        store: Arc<dyn AuthStore>,
        clock: Arc<dyn Clock>,
        auth_secret: &SecretString,
    ) -> Result<Self, KeyError> {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(b"crow-jwks-v1"), auth_secret.expose_secret().as_bytes())
            .expand(b"jwks private key sealing", &mut okm)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let ring = Self { store, clock, cipher: XChaCha20Poly1305::new(&okm.into()), current: RwLock::new(None) };
        let active = ring.store.signing_keys().await?.into_iter().find(|k| k.retired_at.is_none());
        let current = match active {
            Some(stored) => (stored.id, ring.unseal(&stored)?),
            None => ring.generate().await?,
        };
        *ring.current.write().await = Some(current);
        Ok(ring)
    }

    fn seal(&self, id: JwksKeyId, key: &SigningKey) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.as_bytes(), aad: id.as_bytes() })
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn unseal(&self, stored: &StoredSigningKey) -> Result<SigningKey, KeyError> {
        let (nonce, sealed) = stored.sealed_private_key.split_at_checked(24).ok_or(KeyError::Unseal(stored.id))?;
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: stored.id.as_bytes() })
            .map_err(|_| KeyError::Unseal(stored.id))?;
        let bytes: [u8; 32] = plain.try_into().map_err(|_| KeyError::Unseal(stored.id))?;
        Ok(SigningKey::from_bytes(&bytes))
    }

    async fn generate(&self) -> Result<(JwksKeyId, SigningKey), KeyError> {
        let seed = super::tokens::random_bytes().map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key = SigningKey::from_bytes(&seed);
        let id = JwksKeyId::new();
        let public = serde_json::to_string(&Jwk::ed25519(&id.to_string(), &key.verifying_key()))
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        self.store
            .add_signing_key(&StoredSigningKey {
                id,
                public_jwk: public,
                sealed_private_key: self.seal(id, &key)?,
                created_at: self.clock.now(),
                retired_at: None,
            })
            .await?;
        tracing::info!(kid = %id, "generated a JWT signing key");
        Ok((id, key))
    }

    /// Signs claims with the current key.
    pub async fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let current = self.current.read().await;
        let (id, key) = current.as_ref().ok_or_else(|| KeyError::Crypto("no signing key".into()))?;
        jwt::sign(key, &id.to_string(), claims).map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// Makes a new key current; retires the old one; drops keys whose tokens have all expired.
    pub async fn rotate(&self) -> Result<JwksKeyId, KeyError> {
        let (id, key) = self.generate().await?;
        let now = self.clock.now();
        let old = self.current.write().await.replace((id, key));
        if let Some((old_id, _)) = old {
            self.store.retire_signing_key(old_id, now).await?;
        }
        let lifetime = i64::try_from(LONGEST_TOKEN_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        self.store.delete_retired_keys(now.add_millis(-lifetime)).await?;
        Ok(id)
    }

    /// The published keys: the current one and retired ones whose tokens may still be live.
    pub async fn jwks(&self) -> Result<Jwks, KeyError> {
        let lifetime = i64::try_from(LONGEST_TOKEN_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let cutoff: Timestamp = self.clock.now().add_millis(-lifetime);
        let keys = self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .filter(|k| k.retired_at.is_none_or(|r| r >= cutoff))
            .filter_map(|k| serde_json::from_str::<Jwk>(&k.public_jwk).ok())
            .collect();
        Ok(Jwks { keys })
    }
}

/// In one process, services read the JWKS straight from the key ring.
#[async_trait]
impl JwksSource for KeyRing {
    async fn fetch(&self) -> Result<Jwks, String> {
        self.jwks().await.map_err(|e| e.to_string())
    }
}
