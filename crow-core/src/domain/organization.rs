//! Organizations (the tenant), their members and invitations, API keys and onboarding.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::id::{ApiKeyId, InvitationId, MemberId, OnboardingId, OrganizationId, UserId};
use crate::tenancy::Role;
use crate::time::Timestamp;

/// An organization: every org-scoped resource belongs to exactly one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Internal id (the tenant key in every store).
    pub id: OrganizationId,
    /// The id the auth service knows it by (Better Auth organization id).
    pub auth_id: String,
    /// Display name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// Logo URL.
    pub logo: Option<String>,
    /// Free-form JSON metadata.
    pub metadata: Option<serde_json::Value>,
    /// Site origins allowed to send tracker events with the org's publishable keys.
    pub allowed_origins: Vec<String>,
    /// AI-built summary of the business, given to analysis and chat as context.
    pub ai_context: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// An organization as the auth service knows it (Better Auth's `organization` table). The
/// organizations service keeps the internal record, synced from this one under the same id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthOrganization {
    /// Id (also the internal organization's id).
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// Logo URL.
    pub logo: Option<String>,
    /// Free-form JSON metadata.
    pub metadata: Option<serde_json::Value>,
    /// Created.
    pub created_at: Timestamp,
}

/// A user's membership in an organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
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
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Sent, not answered.
    Pending,
    /// Accepted by the invited email.
    Accepted,
    /// Declined by the invited email.
    Rejected,
    /// Withdrawn by the organization.
    Canceled,
}

/// An invitation to join an organization, bound to one email.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// Id.
    pub id: InvitationId,
    /// Organization.
    pub organization_id: OrganizationId,
    /// Normalised invited email; only that user may accept.
    pub email: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// Status.
    pub status: InvitationStatus,
    /// After this the invitation cannot be accepted.
    pub expires_at: Timestamp,
    /// Who invited.
    pub inviter_id: UserId,
    /// Created.
    pub created_at: Timestamp,
}

/// Secret keys reach the whole API; publishable keys may only send tracker events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyKind {
    /// `crow_sk_…`: full API for the owner's organization. Never put in a web page.
    Secret,
    /// `crow_pk_…`: event ingest only, and only from the organization's allowed origins.
    Publishable,
}

/// An API key's stored record. Only a SHA-256 hash of the key is kept; `start` is for display.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// Id.
    pub id: ApiKeyId,
    /// Label.
    pub name: Option<String>,
    /// First characters of the key, for recognising it in lists.
    pub start: Option<String>,
    /// Key prefix (`crow_`).
    pub prefix: Option<String>,
    /// Secret or publishable.
    pub kind: ApiKeyKind,
    /// Owner.
    pub user_id: UserId,
    /// The organization the key acts for: the owner's active organization at creation, checked
    /// against the owner's membership at every verification — never taken from `metadata`.
    pub organization_id: Option<OrganizationId>,
    /// Disabled keys fail verification.
    pub enabled: bool,
    /// Per-key rate limit on/off.
    pub rate_limit_enabled: bool,
    /// Rate-limit window in milliseconds.
    pub rate_limit_time_window: Option<i64>,
    /// Requests allowed per window.
    pub rate_limit_max: Option<i64>,
    /// Verifications so far.
    pub request_count: i64,
    /// Uses left; `None` is unlimited.
    pub remaining: Option<i64>,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
    /// Permission map (JSON).
    pub permissions: Option<serde_json::Value>,
    /// Caller metadata (JSON). Never trusted for authorization.
    pub metadata: Option<serde_json::Value>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Where an onboarding flow stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStatus {
    /// Steps remain.
    InProgress,
    /// All steps done.
    Completed,
    /// Given up by the user.
    Abandoned,
}

/// A user's multi-step onboarding (organization, profile, billing, product sources).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Onboarding {
    /// Id.
    pub id: OnboardingId,
    /// The user being onboarded (auth id).
    pub better_auth_user_id: String,
    /// The organization created during onboarding (auth id).
    pub better_auth_org_id: Option<String>,
    /// Step the user is on, from 1.
    pub current_step: u8,
    /// Steps done.
    pub completed_steps: Vec<u8>,
    /// How products will be imported (`crawl`, `manual`, `none`).
    pub product_source: Option<String>,
    /// The shop to crawl, when `product_source` is `crawl`.
    pub product_url: Option<String>,
    /// The plan chosen at the billing step.
    pub plan: Option<String>,
    /// Interaction sources chosen (`web`, `cctv`, `social`).
    pub sources: Vec<String>,
    /// Status.
    pub status: OnboardingStatus,
    /// Started.
    pub created_at: Timestamp,
    /// Finished.
    pub completed_at: Option<Timestamp>,
}
