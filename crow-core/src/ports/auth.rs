//! The auth service's storage port: users and credentials, sessions, auth organizations with
//! members and invitations, API keys and JWT signing keys.
//!
//! These are the auth service's own records (the original kept them in one database), so one
//! trait groups them; every method names the aggregate it touches. Secrets arrive here already
//! hashed or encrypted — a store never sees a session token, API key or private key in the clear.

use alloc::string::String;
use alloc::vec::Vec;

use async_trait::async_trait;
use bytes::Bytes;

use super::store::StoreResult;
use crate::domain::{Account, ApiKey, AuthOrganization, Invitation, Member, Onboarding, Session, User};
use crate::id::{ApiKeyId, InvitationId, JwksKeyId, MemberId, OrganizationId, SessionId, UserId};
use crate::time::Timestamp;

/// A SHA-256 digest of a secret token.
pub type TokenHash = [u8; 32];

/// A JWT signing key as stored: public JWK in the clear, private key sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Key id (`kid`).
    pub id: JwksKeyId,
    /// Public JWK (JSON text).
    pub public_jwk: String,
    /// Nonce and ciphertext of the private key.
    pub sealed_private_key: Vec<u8>,
    /// Created.
    pub created_at: Timestamp,
    /// When it stopped signing.
    pub retired_at: Option<Timestamp>,
}

/// What a verification did to a key's usage counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// Counted; `remaining` is what is left (`None`: unlimited).
    Allowed {
        /// Uses left.
        remaining: Option<i64>,
    },
    /// `remaining` was already 0.
    Exhausted,
    /// The key's own rate limit is reached; retry after this many milliseconds.
    RateLimited {
        /// Wait.
        retry_after_ms: i64,
    },
}

/// Auth storage.
#[async_trait]
pub trait AuthStore: Send + Sync {
    // --- users and credentials ---
    /// Creates a user with a credential account. `Conflict` when the email exists.
    async fn create_user(&self, user: &User, account: &Account, password_hash: &str) -> StoreResult<()>;
    /// The user with this (normalised) email and its credential password hash, if any.
    async fn find_credentials(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// One user.
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// Deletes a user with their sessions, accounts, memberships and keys.
    async fn delete_user(&self, id: UserId) -> StoreResult<()>;
    /// Changes a user's profile fields (`None` keeps the value).
    async fn update_user(
        &self,
        id: UserId,
        name: Option<String>,
        image: Option<String>,
        now: Timestamp,
    ) -> StoreResult<User>;

    // --- sessions ---
    /// Stores a session under the hash of its token.
    async fn create_session(&self, session: &Session, token_hash: &TokenHash) -> StoreResult<()>;
    /// The live or expired session for a token hash, with its user.
    async fn find_session(&self, token_hash: &TokenHash) -> StoreResult<Option<(Session, User)>>;
    /// Slides the expiry.
    async fn extend_session(&self, id: SessionId, expires_at: Timestamp, now: Timestamp) -> StoreResult<()>;
    /// Sets (or clears) the session's active organization.
    async fn set_active_organization(
        &self,
        id: SessionId,
        organization: Option<OrganizationId>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Revokes a session.
    async fn delete_session(&self, id: SessionId) -> StoreResult<()>;

    // --- organizations, members, invitations ---
    /// Creates an auth organization with its owner membership and, in the same transaction, an
    /// outbox message on `sync_topic` so the organizations service creates the internal record
    /// (`Conflict` when the slug is taken).
    async fn create_organization(
        &self,
        organization: &AuthOrganization,
        owner: &Member,
        sync_topic: &str,
        sync_message: Bytes,
    ) -> StoreResult<()>;
    /// Deletes an auth organization with its members, invitations and keys.
    async fn delete_organization(&self, id: OrganizationId) -> StoreResult<()>;
    /// One organization.
    async fn get_organization(&self, id: OrganizationId) -> StoreResult<AuthOrganization>;
    /// Organizations the user is a member of.
    async fn list_organizations(&self, user: UserId) -> StoreResult<Vec<AuthOrganization>>;
    /// The user's membership in an organization.
    async fn find_member(&self, organization: OrganizationId, user: UserId) -> StoreResult<Option<Member>>;
    /// Every member of an organization, with their user.
    async fn list_members(&self, organization: OrganizationId) -> StoreResult<Vec<(Member, User)>>;
    /// Removes a member; `NotFound` when it is not in that organization.
    async fn remove_member(&self, organization: OrganizationId, member: MemberId) -> StoreResult<Member>;
    /// Stores an invitation.
    async fn create_invitation(&self, invitation: &Invitation) -> StoreResult<()>;
    /// One invitation.
    async fn get_invitation(&self, id: InvitationId) -> StoreResult<Invitation>;
    /// Pending invitations of an organization.
    async fn list_invitations(&self, organization: OrganizationId) -> StoreResult<Vec<Invitation>>;
    /// Pending invitations addressed to an email.
    async fn list_invitations_for(&self, email: &str) -> StoreResult<Vec<Invitation>>;
    /// Cancels a pending invitation of the organization; `NotFound` otherwise.
    async fn cancel_invitation(&self, organization: OrganizationId, id: InvitationId) -> StoreResult<()>;
    /// Marks a pending invitation accepted and adds the member, atomically; `Conflict` when it was
    /// no longer pending or the user is already a member.
    async fn accept_invitation(&self, id: InvitationId, member: &Member) -> StoreResult<()>;

    // --- API keys ---
    /// Stores a key under the hash of its secret.
    async fn create_api_key(&self, key: &ApiKey, key_hash: &TokenHash) -> StoreResult<()>;
    /// The owner's keys.
    async fn list_api_keys(&self, user: UserId) -> StoreResult<Vec<ApiKey>>;
    /// Deletes one of the owner's keys; `NotFound` when the owner has no such key.
    async fn delete_api_key(&self, user: UserId, id: ApiKeyId) -> StoreResult<()>;
    /// Renames or enables/disables one of the owner's keys; `NotFound` when the owner has none.
    async fn update_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        name: Option<String>,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> StoreResult<ApiKey>;
    /// The key with this hash.
    async fn find_api_key(&self, key_hash: &TokenHash) -> StoreResult<Option<ApiKey>>;
    /// Counts one use atomically, honouring `remaining` and the key's rate limit.
    async fn use_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<KeyUse>;

    // --- onboarding ---
    /// The user's onboarding, if started.
    async fn get_onboarding(&self, user: UserId) -> StoreResult<Option<Onboarding>>;
    /// Creates or replaces the user's onboarding record.
    async fn save_onboarding(&self, user: UserId, onboarding: &Onboarding) -> StoreResult<()>;

    // --- JWT signing keys ---
    /// Every signing key, newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<StoredSigningKey>>;
    /// Adds a signing key.
    async fn add_signing_key(&self, key: &StoredSigningKey) -> StoreResult<()>;
    /// Stops signing with a key (it stays published until its tokens expire).
    async fn retire_signing_key(&self, id: JwksKeyId, at: Timestamp) -> StoreResult<()>;
    /// Deletes keys retired before `before`.
    async fn delete_retired_keys(&self, before: Timestamp) -> StoreResult<u64>;
}
