//! Identity: users, their sessions and credential accounts, and the JWT signing keys.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::id::{AccountId, JwksKeyId, OrganizationId, SessionId, UserId};
use crate::time::Timestamp;

/// A person who can sign in. Emails are stored normalised (trimmed, lower-case).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Normalised email, unique.
    pub email: String,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Profile picture URL.
    pub image: Option<String>,
    /// An anonymous (tracker or guest) user.
    pub is_anonymous: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A sign-in session. Only a hash of the session token is stored; the token itself lives in the
/// client's cookie and is never written anywhere on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Expiry; refreshed while the session is used (sliding window).
    pub expires_at: Timestamp,
    /// The organization `set-active` chose.
    pub active_organization_id: Option<OrganizationId>,
    /// Client address as seen by the gateway.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A credential (`credential` provider, hashed password) or OAuth account linked to a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Id.
    pub id: AccountId,
    /// Provider-specific account id.
    pub account_id: String,
    /// `credential`, `google`, …
    pub provider_id: String,
    /// Owner.
    pub user_id: UserId,
    /// OAuth scope.
    pub scope: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A JWT signing key. The private half is stored encrypted and never leaves the auth service;
/// this type carries only what may be published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwksKey {
    /// Id, used as the JWT `kid`.
    pub id: JwksKeyId,
    /// The public key as a JWK (JSON text).
    pub public_key: String,
    /// Created.
    pub created_at: Timestamp,
    /// After this, no new tokens are signed with the key; it stays published until its last
    /// token expires.
    pub retired_at: Option<Timestamp>,
}
