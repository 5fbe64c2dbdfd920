//! Auth logic behind the ports: accounts, sessions, organizations, invitations, API keys, tokens.
//! No HTTP here — `http.rs` maps requests and responses; this module decides.

use std::sync::Arc;

use bytes::Bytes;
use crow_core::api::auth::Verification;
use crow_core::domain::{
    Account, ApiKey, ApiKeyKind, AuthOrganization, Invitation, InvitationStatus, Member, Onboarding, Session, User,
};
use crow_core::id::{AccountId, ApiKeyId, InvitationId, MemberId, OrganizationId, SessionId, UserId};
use crow_core::ports::auth::{AuthStore, KeyUse};
use crow_core::ports::clock::Clock;
use crow_core::ports::queue::topics;
use crow_core::ports::store::StoreError;
use crow_core::tenancy::Role;
use crow_core::{ErrorCode, Timestamp};
use serde::{Deserialize, Serialize};

use super::keys::{KeyError, KeyRing};
use super::onboarding::{self, StepInput, TransitionError};
use super::password::{self, HashError, Hasher};
use super::tokens;
use crate::jwt::{Audience, Claims, TOKEN_LIFETIME};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Sessions last 7 days, refreshed (slid) when used more than a day after the last refresh.
pub const SESSION_TTL_MS: i64 = 7 * DAY_MS;
const SESSION_UPDATE_AGE_MS: i64 = DAY_MS;
const INVITATION_TTL_MS: i64 = 2 * DAY_MS;

/// Why an auth operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Refused, with the code and message the caller sees.
    #[error("{message}")]
    Refused {
        /// Stable code.
        code: ErrorCode,
        /// Message.
        message: String,
    },
    /// Password hashing at capacity: retry shortly.
    #[error("too many sign-ins at once; retry shortly")]
    Overloaded,
    /// Storage failed.
    #[error("auth storage failed")]
    Store(#[source] StoreError),
    /// Signing failed.
    #[error("token signing failed")]
    Keys(#[from] KeyError),
    /// Randomness or hashing failed.
    #[error("auth internal failure: {0}")]
    Internal(String),
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> AuthError {
    AuthError::Refused { code, message: message.into() }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => refuse(ErrorCode::NotFound, "not found"),
            other => AuthError::Store(other),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Overloaded => AuthError::Overloaded,
            HashError::Failed(m) => AuthError::Internal(m),
        }
    }
}

fn random_failure(e: getrandom::Error) -> AuthError {
    AuthError::Internal(e.to_string())
}

/// Result shorthand.
pub type AuthResult<T> = Result<T, AuthError>;

/// Settings the logic needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// JWT `iss` and `aud`.
    pub public_url: String,
    /// Refused sign-up domains, lower-case.
    pub blocked_email_domains: Vec<String>,
}

/// A verified session.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// The raw token (from the caller's own cookie), echoed in `get-session`.
    pub token: String,
    /// Set when this request slid the expiry, so the cookie is re-issued.
    pub refreshed: bool,
}

/// A new session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The session.
    pub session: Session,
    /// The session token for the cookie (shown once).
    pub token: String,
}

/// The message the outbox carries to the organizations service.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSync {
    /// The auth organization just created.
    pub organization: AuthOrganization,
    /// Its owner.
    pub owner_id: UserId,
}

/// Options of a new API key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    /// Label.
    pub name: Option<String>,
    /// `secret` (default) or `publishable`.
    pub kind: Option<ApiKeyKind>,
    /// Lifetime in seconds.
    pub expires_in: Option<i64>,
    /// Uses allowed.
    pub remaining: Option<i64>,
    /// Caller metadata; never used for authorization.
    pub metadata: Option<serde_json::Value>,
    /// Permission map.
    pub permissions: Option<serde_json::Value>,
    /// Turn the key's own rate limit on.
    pub rate_limit_enabled: Option<bool>,
    /// Window in milliseconds.
    pub rate_limit_time_window: Option<i64>,
    /// Requests per window.
    pub rate_limit_max: Option<i64>,
}

/// The auth service.
pub struct AuthService {
    store: Arc<dyn AuthStore>,
    hasher: Hasher,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Trims and lower-cases an email and checks its shape.
pub fn normalize_email(raw: &str) -> AuthResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
        });
    if valid { Ok(email) } else { Err(refuse(ErrorCode::InvalidEmail, "Invalid email")) }
}

fn check_password(password: &str) -> AuthResult<()> {
    let chars = password.chars().count();
    if chars < password::MIN_LENGTH {
        return Err(refuse(ErrorCode::PasswordTooShort, "Password too short"));
    }
    if chars > password::MAX_LENGTH {
        return Err(refuse(ErrorCode::PasswordTooLong, "Password too long"));
    }
    Ok(())
}

fn check_slug(slug: &str) -> AuthResult<()> {
    let ok = (1..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-');
    if ok { Ok(()) } else { Err(refuse(ErrorCode::ValidationFailed, "slug must be 1-64 characters of a-z, 0-9 and -")) }
}

fn check_name(field: &str, name: &str) -> AuthResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(refuse(ErrorCode::ValidationFailed, format!("{field} must be 1-200 characters")));
    }
    Ok(())
}

impl AuthService {
    /// Wires the service.
    pub fn new(
        store: Arc<dyn AuthStore>,
        hasher: Hasher,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Self { store, hasher, keys, clock, settings }
    }

    /// The key ring (JWKS, rotation).
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    async fn start_session(&self, user: User, ip: Option<String>, ua: Option<String>) -> AuthResult<SignedIn> {
        let now = self.clock.now();
        let token = tokens::session_token().map_err(random_failure)?;
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            expires_at: now.add_millis(SESSION_TTL_MS),
            active_organization_id: None,
            ip_address: ip,
            user_agent: ua.map(|u| u.chars().take(512).collect()),
            created_at: now,
            updated_at: now,
        };
        self.store.create_session(&session, &tokens::digest(&token)).await?;
        Ok(SignedIn { user, session, token })
    }

    /// `sign-up/email`.
    pub async fn sign_up(
        &self,
        name: &str,
        email: &str,
        password: String,
        image: Option<String>,
        ip: Option<String>,
        ua: Option<String>,
    ) -> AuthResult<SignedIn> {
        check_name("name", name)?;
        let email = normalize_email(email)?;
        check_password(&password)?;
        let domain = email.rsplit('@').next().unwrap_or_default();
        if self.settings.blocked_email_domains.iter().any(|d| d == domain) {
            return Err(refuse(
                ErrorCode::EmailDomainNotAllowed,
                format!("Please sign up with your work email; {domain} addresses are not accepted"),
            ));
        }
        if self.store.find_credentials(&email).await?.is_some() {
            return Err(refuse(ErrorCode::UserAlreadyExists, "User already exists. Use another email."));
        }
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            name: name.trim().to_owned(),
            email,
            email_verified: false,
            image,
            is_anonymous: false,
            created_at: now,
            updated_at: now,
        };
        let account = Account {
            id: AccountId::new(),
            account_id: user.id.to_string(),
            provider_id: "credential".into(),
            user_id: user.id,
            scope: None,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_user(&user, &account, &hash).await {
            // Two sign-ups raced; the loser gets the same answer as a late one.
            Err(StoreError::Conflict(_)) => {
                return Err(refuse(ErrorCode::UserAlreadyExists, "User already exists. Use another email."));
            }
            other => other?,
        }
        self.start_session(user, ip, ua).await
    }

    /// `sign-in/email`: unknown email and wrong password get the same answer after the same work.
    pub async fn sign_in(
        &self,
        email: &str,
        password: String,
        ip: Option<String>,
        ua: Option<String>,
    ) -> AuthResult<SignedIn> {
        let email = normalize_email(email)?;
        let invalid = || refuse(ErrorCode::InvalidEmailOrPassword, "Invalid email or password");
        if password.chars().count() > password::MAX_LENGTH {
            return Err(invalid());
        }
        let found = self.store.find_credentials(&email).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        if !self.hasher.verify(password, hash).await? {
            return Err(invalid());
        }
        let user = user.ok_or_else(invalid)?;
        self.start_session(user, ip, ua).await
    }

    /// The session behind a cookie token, slid forward when due; `None` when missing or expired.
    pub async fn authenticate(&self, token: &str) -> AuthResult<Option<Authenticated>> {
        let Some((mut session, user)) = self.store.find_session(&tokens::digest(token)).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if session.expires_at <= now {
            self.store.delete_session(session.id).await?;
            return Ok(None);
        }
        let mut refreshed = false;
        if now.millis_since(session.updated_at) >= SESSION_UPDATE_AGE_MS {
            session.expires_at = now.add_millis(SESSION_TTL_MS);
            session.updated_at = now;
            self.store.extend_session(session.id, session.expires_at, now).await?;
            refreshed = true;
        }
        Ok(Some(Authenticated { session, user, token: token.to_owned(), refreshed }))
    }

    /// `sign-out`.
    pub async fn sign_out(&self, auth: &Authenticated) -> AuthResult<()> {
        Ok(self.store.delete_session(auth.session.id).await?)
    }

    async fn role_in(&self, org: OrganizationId, user: UserId) -> AuthResult<Option<Role>> {
        Ok(self.store.find_member(org, user).await?.map(|m| m.role))
    }

    fn claims(&self, sub: String, email: Option<String>, org: Option<OrganizationId>, role: Option<Role>) -> Claims {
        let now_s = self.clock.now().as_millis().div_euclid(1000);
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(900);
        Claims {
            iss: self.settings.public_url.clone(),
            aud: Audience::One(self.settings.public_url.clone()),
            sub,
            exp: now_s + lifetime,
            nbf: now_s,
            iat: now_s,
            email,
            organization_id: org.map(|o| o.to_string()),
            role: role.map(|r| r.as_str().to_owned()),
        }
    }

    /// An anonymous session token, for services that accept anonymous callers: a fresh `anon:`
    /// subject with no email, organization or role, living `ANONYMOUS_TOKEN_LIFETIME`. Nothing
    /// is stored — it grants no access to any organization's data.
    pub async fn anonymous_token(&self) -> AuthResult<String> {
        let random = tokens::random_bytes().map_err(random_failure)?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&random[..16]);
        let subject = format!("anon:{}", uuid::Builder::from_random_bytes(id).into_uuid());
        let mut claims = self.claims(subject, None, None, None);
        claims.exp = claims.iat + i64::try_from(crate::jwt::ANONYMOUS_TOKEN_LIFETIME.as_secs()).unwrap_or(3900);
        Ok(self.keys.sign(&claims).await?)
    }

    /// `token`: a 15-minute JWT for the session's user and active organization.
    pub async fn token(&self, auth: &Authenticated) -> AuthResult<String> {
        let org = auth.session.active_organization_id;
        let role = match org {
            Some(o) => self.role_in(o, auth.user.id).await?,
            None => None,
        };
        // A session whose active org the user has since left carries no org claim.
        let org = org.filter(|_| role.is_some());
        Ok(self.keys.sign(&self.claims(auth.user.id.to_string(), Some(auth.user.email.clone()), org, role)).await?)
    }

    /// `organization/create`: the creator becomes owner; the internal record follows through the
    /// outbox; the new organization becomes active unless `keep_active`.
    pub async fn create_organization(
        &self,
        auth: &Authenticated,
        name: &str,
        slug: &str,
        logo: Option<String>,
        metadata: Option<serde_json::Value>,
        keep_active: bool,
    ) -> AuthResult<(AuthOrganization, Member)> {
        check_name("name", name)?;
        check_slug(slug)?;
        let now = self.clock.now();
        let org = AuthOrganization {
            id: OrganizationId::new(),
            name: name.trim().into(),
            slug: slug.into(),
            logo,
            metadata,
            created_at: now,
        };
        let owner = Member {
            id: MemberId::new(),
            organization_id: org.id,
            user_id: auth.user.id,
            role: Role::Owner,
            created_at: now,
        };
        let sync = serde_json::to_vec(&OrganizationSync { organization: org.clone(), owner_id: auth.user.id })
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        match self.store.create_organization(&org, &owner, topics::ORG_SYNC, Bytes::from(sync)).await {
            Err(StoreError::Conflict(_)) => {
                return Err(refuse(ErrorCode::OrganizationAlreadyExists, "Organization already exists"));
            }
            other => other?,
        }
        if !keep_active {
            self.store.set_active_organization(auth.session.id, Some(org.id), now).await?;
        }
        Ok((org, owner))
    }

    /// `organization/list`.
    pub async fn list_organizations(&self, auth: &Authenticated) -> AuthResult<Vec<AuthOrganization>> {
        Ok(self.store.list_organizations(auth.user.id).await?)
    }

    /// The organization `requested` or the session's active one, with the caller's membership.
    async fn membership(&self, auth: &Authenticated, requested: Option<OrganizationId>) -> AuthResult<Member> {
        let org = requested
            .or(auth.session.active_organization_id)
            .ok_or_else(|| refuse(ErrorCode::NoActiveOrganization, "No active organization"))?;
        self.store
            .find_member(org, auth.user.id)
            .await?
            .ok_or_else(|| refuse(ErrorCode::NotAMember, "User is not a member of the organization"))
    }

    /// `organization/set-active`: only to an organization the user belongs to; `None` clears it.
    pub async fn set_active(
        &self,
        auth: &Authenticated,
        org: Option<OrganizationId>,
    ) -> AuthResult<Option<(AuthOrganization, Vec<(Member, User)>)>> {
        let now = self.clock.now();
        let Some(org) = org else {
            self.store.set_active_organization(auth.session.id, None, now).await?;
            return Ok(None);
        };
        let organization = match self.store.get_organization(org).await {
            Err(StoreError::NotFound) => {
                return Err(refuse(ErrorCode::OrganizationNotFound, "Organization not found"));
            }
            other => other?,
        };
        self.membership(auth, Some(org)).await?;
        self.store.set_active_organization(auth.session.id, Some(org), now).await?;
        Ok(Some((organization, self.store.list_members(org).await?)))
    }

    /// `organization/list-members`.
    pub async fn list_members(
        &self,
        auth: &Authenticated,
        org: Option<OrganizationId>,
    ) -> AuthResult<Vec<(Member, User)>> {
        let me = self.membership(auth, org).await?;
        Ok(self.store.list_members(me.organization_id).await?)
    }

    /// `organization/invite-member`: admins and owners invite; only owners invite owners.
    pub async fn invite(
        &self,
        auth: &Authenticated,
        email: &str,
        role: Role,
        org: Option<OrganizationId>,
    ) -> AuthResult<Invitation> {
        let me = self.membership(auth, org).await?;
        if me.role < Role::Admin || (role == Role::Owner && me.role != Role::Owner) {
            return Err(refuse(ErrorCode::NotAllowed, "You are not allowed to invite users to this organization"));
        }
        let email = normalize_email(email)?;
        let members = self.store.list_members(me.organization_id).await?;
        if members.iter().any(|(_, u)| u.email == email) {
            return Err(refuse(ErrorCode::AlreadyMember, "User is already a member of this organization"));
        }
        let now = self.clock.now();
        let invitation = Invitation {
            id: InvitationId::new(),
            organization_id: me.organization_id,
            email,
            role,
            status: InvitationStatus::Pending,
            expires_at: now.add_millis(INVITATION_TTL_MS),
            inviter_id: auth.user.id,
            created_at: now,
        };
        self.store.create_invitation(&invitation).await?;
        Ok(invitation)
    }

    /// `organization/accept-invitation`: only by the invited email, before expiry, once.
    pub async fn accept_invitation(&self, auth: &Authenticated, id: InvitationId) -> AuthResult<(Invitation, Member)> {
        let not_found = || refuse(ErrorCode::InvitationNotFound, "Invitation not found");
        let mut invitation = match self.store.get_invitation(id).await {
            Err(StoreError::NotFound) => return Err(not_found()),
            other => other?,
        };
        let now = self.clock.now();
        if invitation.status != InvitationStatus::Pending || invitation.expires_at <= now {
            return Err(not_found());
        }
        if invitation.email != auth.user.email {
            return Err(refuse(ErrorCode::NotInvitationRecipient, "You are not the recipient of the invitation"));
        }
        let member = Member {
            id: MemberId::new(),
            organization_id: invitation.organization_id,
            user_id: auth.user.id,
            role: invitation.role,
            created_at: now,
        };
        match self.store.accept_invitation(id, &member).await {
            Err(StoreError::Conflict(_)) => {
                return Err(refuse(ErrorCode::AlreadyMember, "User is already a member of this organization"));
            }
            other => other?,
        }
        self.store.set_active_organization(auth.session.id, Some(invitation.organization_id), now).await?;
        invitation.status = InvitationStatus::Accepted;
        Ok((invitation, member))
    }

    /// `organization/remove-member`: admins remove members; only owners remove owners.
    pub async fn remove_member(
        &self,
        auth: &Authenticated,
        member_id_or_email: &str,
        org: Option<OrganizationId>,
    ) -> AuthResult<Member> {
        let me = self.membership(auth, org).await?;
        let members = self.store.list_members(me.organization_id).await?;
        let wanted = member_id_or_email.trim().to_lowercase();
        let (target, _) = members
            .iter()
            .find(|(m, u)| m.id.to_string() == wanted || u.email == wanted)
            .ok_or_else(|| refuse(ErrorCode::MemberNotFound, "Member not found"))?;
        let self_removal = target.user_id == auth.user.id;
        if !self_removal && (me.role < Role::Admin || (target.role == Role::Owner && me.role != Role::Owner)) {
            return Err(refuse(ErrorCode::NotAllowed, "You are not allowed to remove this member"));
        }
        if target.role == Role::Owner && members.iter().filter(|(m, _)| m.role == Role::Owner).count() == 1 {
            return Err(refuse(ErrorCode::NotAllowed, "The last owner cannot be removed"));
        }
        Ok(self.store.remove_member(me.organization_id, target.id).await?)
    }

    /// `api-key/create`: the key acts for the session's active organization, where the caller
    /// must be a member; the full key is returned once and never stored.
    pub async fn create_api_key(&self, auth: &Authenticated, req: NewKey) -> AuthResult<(ApiKey, String)> {
        let me = self.membership(auth, None).await?;
        let kind = req.kind.unwrap_or(ApiKeyKind::Secret);
        if let Some(name) = &req.name {
            check_name("name", name)?;
        }
        if req.expires_in.is_some_and(|s| !(60..=10 * 365 * 86_400).contains(&s)) {
            return Err(refuse(ErrorCode::ValidationFailed, "expiresIn must be between 60 seconds and 10 years"));
        }
        if req.remaining.is_some_and(|r| r < 0) {
            return Err(refuse(ErrorCode::ValidationFailed, "remaining must not be negative"));
        }
        let limited = req.rate_limit_enabled.unwrap_or(false);
        if limited && (req.rate_limit_max.is_none_or(|m| m < 1) || req.rate_limit_time_window.is_none_or(|w| w < 1)) {
            return Err(refuse(
                ErrorCode::ValidationFailed,
                "a rate limit needs rateLimitMax ≥ 1 and rateLimitTimeWindow ≥ 1 ms",
            ));
        }
        let prefix = match kind {
            ApiKeyKind::Secret => "crow_sk_",
            ApiKeyKind::Publishable => "crow_pk_",
        };
        let secret = format!("{prefix}{}", tokens::base62(43).map_err(random_failure)?);
        let now = self.clock.now();
        let key = ApiKey {
            id: ApiKeyId::new(),
            name: req.name,
            start: Some(secret.chars().take(12).collect()),
            prefix: Some(prefix.into()),
            kind,
            user_id: auth.user.id,
            organization_id: Some(me.organization_id),
            enabled: true,
            rate_limit_enabled: limited,
            rate_limit_time_window: req.rate_limit_time_window.filter(|_| limited),
            rate_limit_max: req.rate_limit_max.filter(|_| limited),
            request_count: 0,
            remaining: req.remaining,
            expires_at: req.expires_in.map(|s| now.add_millis(s * 1000)),
            permissions: req.permissions,
            metadata: req.metadata,
            created_at: now,
            updated_at: now,
        };
        self.store.create_api_key(&key, &tokens::digest(&secret)).await?;
        Ok((key, secret))
    }

    /// `api-key/list`.
    pub async fn list_api_keys(&self, auth: &Authenticated) -> AuthResult<Vec<ApiKey>> {
        Ok(self.store.list_api_keys(auth.user.id).await?)
    }

    /// `api-key/delete`.
    pub async fn delete_api_key(&self, auth: &Authenticated, id: ApiKeyId) -> AuthResult<()> {
        match self.store.delete_api_key(auth.user.id, id).await {
            Err(StoreError::NotFound) => Err(refuse(ErrorCode::KeyNotFound, "API key not found")),
            other => Ok(other?),
        }
    }

    /// `api-key/update`: rename, enable or disable one of the caller's keys.
    pub async fn update_api_key(
        &self,
        auth: &Authenticated,
        id: ApiKeyId,
        name: Option<String>,
        enabled: Option<bool>,
    ) -> AuthResult<ApiKey> {
        if let Some(name) = &name {
            check_name("name", name)?;
        }
        match self.store.update_api_key(auth.user.id, id, name, enabled, self.clock.now()).await {
            Err(StoreError::NotFound) => Err(refuse(ErrorCode::KeyNotFound, "API key not found")),
            other => Ok(other?),
        }
    }

    /// `api-key/verify`: checks and counts one use.
    pub async fn verify_api_key(&self, secret: &str) -> AuthResult<Verification> {
        if !secret.starts_with("crow_") || secret.len() > 128 {
            return Ok(Verification::invalid("KEY_NOT_FOUND"));
        }
        let Some(key) = self.store.find_api_key(&tokens::digest(secret)).await? else {
            return Ok(Verification::invalid("KEY_NOT_FOUND"));
        };
        let now = self.clock.now();
        if !key.enabled {
            return Ok(Verification::invalid("KEY_DISABLED"));
        }
        if key.expires_at.is_some_and(|e| e <= now) {
            return Ok(Verification::invalid("KEY_EXPIRED"));
        }
        // The organization comes from the owner's membership, re-checked now.
        let Some(org) = key.organization_id else {
            return Ok(Verification::invalid("NOT_A_MEMBER"));
        };
        let Some(role) = self.role_in(org, key.user_id).await? else {
            return Ok(Verification::invalid("NOT_A_MEMBER"));
        };
        let remaining = match self.store.use_api_key(key.id, now).await? {
            KeyUse::Allowed { remaining } => remaining,
            KeyUse::Exhausted => return Ok(Verification::invalid("USAGE_EXCEEDED")),
            KeyUse::RateLimited { retry_after_ms } => {
                return Ok(Verification {
                    try_again_in: Some(retry_after_ms),
                    ..Verification::invalid("RATE_LIMITED")
                });
            }
        };
        Ok(Verification {
            valid: true,
            error: None,
            key_id: Some(key.id),
            user_id: Some(key.user_id),
            organization_id: Some(org),
            role: Some(role),
            kind: Some(key.kind),
            remaining,
            permissions: key.permissions,
            try_again_in: None,
            rate_limit_enabled: key.rate_limit_enabled,
        })
    }

    /// A JWT for a key already verified (the gateway's path: one verification, one count).
    pub async fn token_for_verification(&self, v: &Verification) -> AuthResult<String> {
        let user = v.user_id.filter(|_| v.valid && v.kind == Some(ApiKeyKind::Secret));
        let user = user.ok_or_else(|| refuse(ErrorCode::Unauthorized, "only valid secret keys obtain tokens"))?;
        Ok(self.keys.sign(&self.claims(user.to_string(), None, v.organization_id, v.role)).await?)
    }

    /// `api-key/system-token`: a JWT for a valid secret key's holder, so integrations can call
    /// services that take JWTs. Publishable keys never get one.
    pub async fn system_token(&self, secret: &str) -> AuthResult<String> {
        let v = self.verify_api_key(secret).await?;
        if !v.valid || v.kind != Some(ApiKeyKind::Secret) {
            return Err(refuse(
                ErrorCode::Unauthorized,
                v.error.unwrap_or_else(|| "publishable keys cannot obtain tokens".into()),
            ));
        }
        self.token_for_verification(&v).await
    }

    /// `onboarding/start`: the user's flow, created at step 1 if there is none (resumable).
    pub async fn start_onboarding(&self, auth: &Authenticated) -> AuthResult<Onboarding> {
        if let Some(existing) = self.store.get_onboarding(auth.user.id).await? {
            return Ok(existing);
        }
        let fresh = onboarding::start(auth.user.id, self.clock.now());
        self.store.save_onboarding(auth.user.id, &fresh).await?;
        Ok(fresh)
    }

    /// `onboarding` (GET): the flow, if started.
    pub async fn onboarding(&self, auth: &Authenticated) -> AuthResult<Option<Onboarding>> {
        Ok(self.store.get_onboarding(auth.user.id).await?)
    }

    /// `onboarding/step`: applies one step; out-of-order steps are refused with 409.
    pub async fn onboarding_step(&self, auth: &Authenticated, input: &StepInput) -> AuthResult<Onboarding> {
        let current = self.started_onboarding(auth).await?;
        let next = onboarding::advance(&current, input, self.clock.now()).map_err(|e| match e {
            TransitionError::Invalid(m) => refuse(ErrorCode::ValidationFailed, m),
            other => refuse(ErrorCode::InvalidOnboardingStep, other.to_string()),
        })?;
        // Steps with effects outside the record.
        match input {
            StepInput::Organization { organization_id } => {
                self.membership(auth, Some(*organization_id)).await?;
                self.store.set_active_organization(auth.session.id, Some(*organization_id), self.clock.now()).await?;
            }
            StepInput::Profile { name } => {
                self.store.update_user(auth.user.id, Some(name.trim().to_owned()), None, self.clock.now()).await?;
            }
            _ => {}
        }
        self.store.save_onboarding(auth.user.id, &next).await?;
        Ok(next)
    }

    async fn started_onboarding(&self, auth: &Authenticated) -> AuthResult<Onboarding> {
        self.store
            .get_onboarding(auth.user.id)
            .await?
            .ok_or_else(|| refuse(ErrorCode::InvalidOnboardingStep, "onboarding has not been started"))
    }

    /// `onboarding/abandon`.
    pub async fn abandon_onboarding(&self, auth: &Authenticated) -> AuthResult<Onboarding> {
        let current = self.started_onboarding(auth).await?;
        let next =
            onboarding::abandon(&current).map_err(|e| refuse(ErrorCode::InvalidOnboardingStep, e.to_string()))?;
        self.store.save_onboarding(auth.user.id, &next).await?;
        Ok(next)
    }

    /// `team-invitations` (GET): pending invitations of the active organization (admins).
    pub async fn team_invitations(&self, auth: &Authenticated) -> AuthResult<Vec<Invitation>> {
        let me = self.membership(auth, None).await?;
        if me.role < Role::Admin {
            return Err(refuse(ErrorCode::NotAllowed, "Only admins and owners see the organization's invitations"));
        }
        Ok(self.store.list_invitations(me.organization_id).await?)
    }

    /// `team-invitations/mine`: pending invitations addressed to the caller.
    pub async fn my_invitations(&self, auth: &Authenticated) -> AuthResult<Vec<Invitation>> {
        let now = self.clock.now();
        let all = self.store.list_invitations_for(&auth.user.email).await?;
        Ok(all.into_iter().filter(|i| i.expires_at > now).collect())
    }

    /// `team-invitations/cancel` (admins).
    pub async fn cancel_invitation(&self, auth: &Authenticated, id: InvitationId) -> AuthResult<()> {
        let me = self.membership(auth, None).await?;
        if me.role < Role::Admin {
            return Err(refuse(ErrorCode::NotAllowed, "Only admins and owners cancel invitations"));
        }
        match self.store.cancel_invitation(me.organization_id, id).await {
            Err(StoreError::NotFound) => Err(refuse(ErrorCode::InvitationNotFound, "Invitation not found")),
            other => Ok(other?),
        }
    }

    /// One user (for responses).
    pub async fn user(&self, id: UserId) -> AuthResult<User> {
        Ok(self.store.get_user(id).await?)
    }

    /// Now, from the service's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@x.com", "ada@x", "a b@x.com", "a@b@x.com", "ada@x..com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_limits_are_checked_before_hashing() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(129)).is_err());
        assert!(check_password("long enough").is_ok());
    }
}
