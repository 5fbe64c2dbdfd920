//! Tenancy: who is calling, and the one BOLA check every org-scoped read and write goes through.
//!
//! A [`Caller`] is built by the server from verified credentials only (the gateway's injected
//! headers behind a valid `X-Internal-Key`, a verified JWT, a verified API key) — never from a
//! body, a query string or a client-supplied header. Org-scoped store methods take a
//! [`TenantPass`], and a pass can only be obtained from [`Caller::tenant`] /
//! [`Caller::authorize`] (the BOLA check) or from [`TenantPass::system`], which names its reason
//! and is meant for background work whose organization was fixed by an earlier check (a queue
//! message written by ingest, a scheduled job iterating organizations). Forgetting the check
//! therefore does not compile: there is no other way to reach a tenant's rows.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::id::{ApiKeyId, OrganizationId, UserId};

/// What kind of credential the caller presented.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// A signed-in user (session cookie or user JWT).
    User {
        /// The user.
        user_id: UserId,
    },
    /// A secret API key: full API access for its owner's organization.
    SecretKey {
        /// The key.
        key_id: ApiKeyId,
        /// Its owner.
        user_id: UserId,
    },
    /// A publishable key (web tracker): may only send events.
    PublishableKey {
        /// The key.
        key_id: ApiKeyId,
    },
    /// Another CROW service calling with the internal key and no end user.
    Service {
        /// Which service, for logs and audit.
        name: String,
    },
}

/// The member's role in the organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read and write the organization's data.
    Member,
    /// Also manage members and keys.
    Admin,
    /// Also delete the organization and manage billing.
    Owner,
}

impl Role {
    /// The wire and storage form (`member`, `admin`, `owner`), Better Auth's role names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        [Role::Member, Role::Admin, Role::Owner].into_iter().find(|r| r.as_str() == s)
    }
}

/// Why a tenancy check refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenancyError {
    /// The caller belongs to another organization than the resource (BOLA).
    #[error("the resource belongs to another organization")]
    Forbidden,
    /// The caller has no active organization, but the operation is org-scoped.
    #[error("no active organization; set one first")]
    NoOrganization,
    /// The credential kind may not perform this operation (e.g. a publishable key reading data).
    #[error("this credential may not perform the operation")]
    CredentialNotAllowed,
    /// The caller's role is below the one the operation requires.
    #[error("requires role {required:?}")]
    InsufficientRole {
        /// The minimum role.
        required: Role,
    },
}

impl TenancyError {
    /// The error code services answer with.
    pub const fn code(&self) -> crate::ErrorCode {
        match self {
            TenancyError::NoOrganization => crate::ErrorCode::NoActiveOrganization,
            _ => crate::ErrorCode::Forbidden,
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    principal: Principal,
    organization: Option<OrganizationId>,
    role: Option<Role>,
}

impl Caller {
    /// Builds a caller from credentials the server has already verified.
    ///
    /// Only the server's authentication layer calls this; handlers receive a `Caller`, they do not
    /// make one. `organization` must come from the verified credential (session's active org, key
    /// owner's membership), never from request data.
    pub fn from_verified(principal: Principal, organization: Option<OrganizationId>, role: Option<Role>) -> Self {
        Self { principal, organization, role }
    }

    /// The credential kind.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The organization the credential is scoped to, if any.
    pub fn organization(&self) -> Option<OrganizationId> {
        self.organization
    }

    /// The user behind the call, when there is one.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.principal {
            Principal::User { user_id } | Principal::SecretKey { user_id, .. } => Some(*user_id),
            Principal::PublishableKey { .. } | Principal::Service { .. } => None,
        }
    }

    /// A pass for the caller's own organization: for creating and listing its resources.
    ///
    /// Publishable keys never get a read/write pass; they only reach ingest, which asks for
    /// [`Caller::ingest_tenant`].
    pub fn tenant(&self) -> Result<TenantPass, TenancyError> {
        if matches!(self.principal, Principal::PublishableKey { .. }) {
            return Err(TenancyError::CredentialNotAllowed);
        }
        self.organization.map(TenantPass::new).ok_or(TenancyError::NoOrganization)
    }

    /// The BOLA check: a pass for `resource_org` only if it is the caller's organization.
    pub fn authorize(&self, resource_org: OrganizationId) -> Result<TenantPass, TenancyError> {
        let pass = self.tenant()?;
        if pass.organization_id() == resource_org { Ok(pass) } else { Err(TenancyError::Forbidden) }
    }

    /// [`Caller::authorize`], and the caller's role must be at least `required`.
    pub fn authorize_role(&self, resource_org: OrganizationId, required: Role) -> Result<TenantPass, TenancyError> {
        let pass = self.authorize(resource_org)?;
        match self.role {
            Some(role) if role >= required => Ok(pass),
            _ => Err(TenancyError::InsufficientRole { required }),
        }
    }

    /// A pass for sending tracker events: the only thing a publishable key may do.
    pub fn ingest_tenant(&self) -> Result<TenantPass, TenancyError> {
        self.organization.map(TenantPass::new).ok_or(TenancyError::NoOrganization)
    }
}

/// Proof that a tenancy check passed for one organization. Org-scoped store calls require it.
///
/// It cannot be built outside this module except through [`TenantPass::system`], whose `reason`
/// makes every bypass explicit and easy to find (`grep TenantPass::system`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantPass {
    organization: OrganizationId,
}

impl TenantPass {
    fn new(organization: OrganizationId) -> Self {
        Self { organization }
    }

    /// A pass for trusted background work on one organization, e.g. a queue consumer handling a
    /// message whose organization was set by an authenticated producer.
    pub fn system(organization: OrganizationId, reason: &'static str) -> Self {
        let _ = reason; // Documentation at the call site; also the hook for an audit log.
        Self { organization }
    }

    /// The organization every query made with this pass is confined to.
    pub fn organization_id(&self) -> OrganizationId {
        self.organization
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_in(org: Option<OrganizationId>, role: Role) -> Caller {
        Caller::from_verified(Principal::User { user_id: UserId::new() }, org, Some(role))
    }

    #[test]
    fn same_org_passes() {
        let org = OrganizationId::new();
        let pass = user_in(Some(org), Role::Member).authorize(org).unwrap();
        assert_eq!(pass.organization_id(), org);
    }

    #[test]
    fn other_org_is_forbidden() {
        let caller = user_in(Some(OrganizationId::new()), Role::Owner);
        assert_eq!(caller.authorize(OrganizationId::new()), Err(TenancyError::Forbidden));
        assert_eq!(TenancyError::Forbidden.code(), crate::ErrorCode::Forbidden);
    }

    #[test]
    fn no_active_org_is_refused() {
        let caller = user_in(None, Role::Owner);
        assert_eq!(caller.tenant(), Err(TenancyError::NoOrganization));
        assert_eq!(caller.authorize(OrganizationId::new()), Err(TenancyError::NoOrganization));
        assert_eq!(TenancyError::NoOrganization.code(), crate::ErrorCode::NoActiveOrganization);
    }

    #[test]
    fn publishable_key_can_only_ingest() {
        let org = OrganizationId::new();
        let caller = Caller::from_verified(Principal::PublishableKey { key_id: ApiKeyId::new() }, Some(org), None);
        assert_eq!(caller.tenant(), Err(TenancyError::CredentialNotAllowed));
        assert_eq!(caller.authorize(org), Err(TenancyError::CredentialNotAllowed));
        assert_eq!(caller.ingest_tenant().unwrap().organization_id(), org);
        assert_eq!(caller.user_id(), None);
    }

    #[test]
    fn roles_round_trip_their_wire_form() {
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    #[test]
    fn roles_are_ordered() {
        let org = OrganizationId::new();
        assert!(user_in(Some(org), Role::Admin).authorize_role(org, Role::Admin).is_ok());
        assert_eq!(
            user_in(Some(org), Role::Member).authorize_role(org, Role::Admin),
            Err(TenancyError::InsufficientRole { required: Role::Admin })
        );
        // A role never lifts the org check.
        assert_eq!(
            user_in(Some(org), Role::Owner).authorize_role(OrganizationId::new(), Role::Member),
            Err(TenancyError::Forbidden)
        );
    }
}
