//! Wire types of the auth service, in Better Auth's JSON shapes.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::domain::{ApiKey, ApiKeyKind, AuthOrganization, Invitation, User};
use crate::id::{ApiKeyId, MemberId, OrganizationId, SessionId, UserId};
use crate::tenancy::Role;
use crate::time::Timestamp;

/// `sign-up/email` and `sign-in/email`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    /// Session token (also set as the `better-auth.session_token` cookie).
    pub token: String,
    /// The user.
    pub user: User,
}

/// The `session` half of `get-session`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Id.
    pub id: SessionId,
    /// Token.
    pub token: String,
    /// User.
    pub user_id: UserId,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Active organization.
    pub active_organization_id: Option<OrganizationId>,
    /// Created.
    pub created_at: Timestamp,
    /// Last refreshed.
    pub updated_at: Timestamp,
}

/// `get-session` (a JSON `null` when there is no session).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionEnvelope {
    /// The session.
    pub session: SessionInfo,
    /// Its user.
    pub user: User,
}

/// A member's user, as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberUser {
    /// Id.
    pub id: UserId,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A membership, with the user when listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// Id.
    pub id: MemberId,
    /// Organization.
    pub organization_id: OrganizationId,
    /// User.
    pub user_id: UserId,
    /// Role.
    pub role: Role,
    /// Joined.
    pub created_at: Timestamp,
    /// The user.
    #[serde(default)]
    pub user: Option<MemberUser>,
}

/// `organization/create` and `organization/set-active`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationWithMembers {
    /// The organization.
    #[serde(flatten)]
    pub organization: AuthOrganization,
    /// Its members.
    pub members: Vec<MemberView>,
}

/// `organization/list-members`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberList {
    /// Members.
    pub members: Vec<MemberView>,
    /// Count.
    pub total: usize,
}

/// `organization/accept-invitation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcceptedInvitation {
    /// The invitation, now accepted.
    pub invitation: Invitation,
    /// The new membership.
    pub member: MemberView,
}

/// `api-key/create` request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKey {
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Secret (default) or publishable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ApiKeyKind>,
    /// Lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Uses allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    /// Own rate limit on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_enabled: Option<bool>,
    /// Window (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_time_window: Option<i64>,
    /// Requests per window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_max: Option<i64>,
    /// Caller metadata (never used for authorization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// `api-key/create` response: the record plus the full key, shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    /// The record.
    #[serde(flatten)]
    pub record: ApiKey,
    /// The full key.
    pub key: String,
}

/// `api-key/list`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyList {
    /// Keys (never the secret).
    pub api_keys: Vec<ApiKey>,
    /// Count.
    pub total: usize,
}

/// `api-key/verify`: flat, so callers cannot misread a nested shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Whether the key may be used now.
    pub valid: bool,
    /// Why not: `KEY_NOT_FOUND`, `KEY_DISABLED`, `KEY_EXPIRED`, `USAGE_EXCEEDED`, `RATE_LIMITED`,
    /// `NOT_A_MEMBER`.
    pub error: Option<String>,
    /// The key.
    pub key_id: Option<ApiKeyId>,
    /// Its owner.
    pub user_id: Option<UserId>,
    /// The organization it acts for (the owner's membership, checked now).
    pub organization_id: Option<OrganizationId>,
    /// The owner's role there.
    pub role: Option<Role>,
    /// Secret or publishable.
    pub kind: Option<ApiKeyKind>,
    /// Uses left.
    pub remaining: Option<i64>,
    /// Permission map.
    pub permissions: Option<serde_json::Value>,
    /// For `RATE_LIMITED`: milliseconds to wait.
    pub try_again_in: Option<i64>,
    /// The key has its own rate limit (so every use must be verified, never cached).
    #[serde(default)]
    pub rate_limit_enabled: bool,
}

impl Verification {
    /// A refusal with its reason.
    pub fn invalid(error: &str) -> Self {
        Self {
            valid: false,
            error: Some(error.into()),
            key_id: None,
            user_id: None,
            organization_id: None,
            role: None,
            kind: None,
            remaining: None,
            permissions: None,
            try_again_in: None,
            rate_limit_enabled: false,
        }
    }
}

/// `token` and `api-key/system-token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT.
    pub token: String,
}
