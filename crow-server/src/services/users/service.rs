//! User logic over the ports.

use std::sync::Arc;

use bytes::Bytes;
use crow_core::domain::User;
use crow_core::id::UserId;
use crow_core::ports::auth::AuthStore;
use crow_core::ports::clock::Clock;
use crow_core::ports::objects::{ObjectError, ObjectKey, ObjectStore};
use crow_core::tenancy::{Caller, Role};
use crow_core::{ErrorCode, OrganizationId};
use serde::Serialize;

use crate::http::ApiError;

/// Largest profile picture accepted.
pub const MAX_PICTURE_BYTES: usize = 2 * 1024 * 1024;

/// A user's membership, for `by-auth-id`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// Organization.
    pub organization_id: OrganizationId,
    /// Role there.
    pub role: Role,
}

/// The image types accepted, recognised by their first bytes (the declared type is not
/// trusted).
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// What each role may do, for clients that adapt their UI.
pub fn permissions(role: Role) -> Vec<&'static str> {
    let mut p = vec!["interactions:read", "products:read", "patterns:read", "chat:use", "qna:use"];
    if role >= Role::Admin {
        p.extend(["members:invite", "members:remove", "api-keys:manage", "organization:update", "products:write"]);
    }
    if role >= Role::Owner {
        p.extend(["organization:delete", "billing:manage"]);
    }
    p
}

/// The users service.
#[derive(Clone)]
pub struct Users {
    auth: Arc<dyn AuthStore>,
    objects: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Users")
    }
}

fn picture_key(user: UserId) -> Result<ObjectKey, ApiError> {
    ObjectKey::new(format!("users/{user}/picture")).map_err(|e| ApiError::internal("bad object key", &e))
}

impl Users {
    /// Wires the service.
    pub fn new(auth: Arc<dyn AuthStore>, objects: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Self { auth, objects, clock }
    }

    fn me(caller: &Caller) -> Result<UserId, ApiError> {
        caller.user_id().ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "this route needs a signed-in user"))
    }

    /// The user, if they belong to the caller's organization (the BOLA check for users: a user
    /// outside the tenant does not exist for the caller).
    async fn visible(&self, caller: &Caller, id: UserId) -> Result<(User, Role), ApiError> {
        let pass = caller.tenant()?;
        let member = self.auth.find_member(pass.organization_id(), id).await?;
        let member = member.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "user not found"))?;
        Ok((self.auth.get_user(id).await?, member.role))
    }

    /// `GET /by-auth-id/{id}`: the user and their memberships (the gateway's API-key path).
    pub async fn by_auth_id(&self, id: UserId) -> Result<(User, Vec<Membership>), ApiError> {
        let user = self.auth.get_user(id).await?;
        let mut memberships = Vec::new();
        for org in self.auth.list_organizations(id).await? {
            if let Some(m) = self.auth.find_member(org.id, id).await? {
                memberships.push(Membership { organization_id: org.id, role: m.role });
            }
        }
        Ok((user, memberships))
    }

    /// `GET /me`.
    pub async fn me_user(&self, caller: &Caller) -> Result<User, ApiError> {
        Ok(self.auth.get_user(Self::me(caller)?).await?)
    }

    /// `GET /{id}`.
    pub async fn get(&self, caller: &Caller, id: UserId) -> Result<User, ApiError> {
        Ok(self.visible(caller, id).await?.0)
    }

    /// `GET /?q=`: the organization's members whose name or email contains `q`.
    pub async fn search(&self, caller: &Caller, q: Option<&str>) -> Result<Vec<User>, ApiError> {
        let pass = caller.tenant()?;
        let q = q.map(str::to_lowercase).unwrap_or_default();
        let members = self.auth.list_members(pass.organization_id()).await?;
        Ok(members
            .into_iter()
            .map(|(_, u)| u)
            .filter(|u| q.is_empty() || u.name.to_lowercase().contains(&q) || u.email.contains(&q))
            .take(100)
            .collect())
    }

    /// `PATCH /{id}`: users edit only themselves.
    pub async fn update(&self, caller: &Caller, id: UserId, name: Option<String>) -> Result<User, ApiError> {
        if Self::me(caller)? != id {
            return Err(ApiError::new(ErrorCode::Forbidden, "users can only edit their own profile"));
        }
        if let Some(n) = &name
            && (n.trim().is_empty() || n.chars().count() > 200)
        {
            return Err(ApiError::new(ErrorCode::ValidationFailed, "name must be 1-200 characters"));
        }
        Ok(self.auth.update_user(id, name.map(|n| n.trim().to_owned()), None, self.clock.now()).await?)
    }

    /// `DELETE /{id}`: users delete only their own account, and not while they are the last
    /// owner of an organization (which would leave it unmanageable).
    pub async fn delete(&self, caller: &Caller, id: UserId) -> Result<(), ApiError> {
        if Self::me(caller)? != id {
            return Err(ApiError::new(ErrorCode::Forbidden, "users can only delete their own account"));
        }
        for org in self.auth.list_organizations(id).await? {
            let members = self.auth.list_members(org.id).await?;
            let owners = members.iter().filter(|(m, _)| m.role == Role::Owner).count();
            if owners == 1 && members.iter().any(|(m, _)| m.user_id == id && m.role == Role::Owner) {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("you are the last owner of {}; transfer ownership or delete it first", org.name),
                ));
            }
        }
        Ok(self.auth.delete_user(id).await?)
    }

    /// `PUT /{id}/picture`: stores the caller's own picture in the organization's object space.
    pub async fn set_picture(&self, caller: &Caller, id: UserId, body: Bytes) -> Result<User, ApiError> {
        if Self::me(caller)? != id {
            return Err(ApiError::new(ErrorCode::Forbidden, "users can only change their own picture"));
        }
        let pass = caller.tenant()?;
        if body.len() > MAX_PICTURE_BYTES {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, "pictures are limited to 2 MiB"));
        }
        if image_type(&body).is_none() {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "pictures must be PNG, JPEG, GIF or WebP"));
        }
        self.objects
            .put(&pass, &picture_key(id)?, body)
            .await
            .map_err(|e| ApiError::internal("cannot store picture", &e))?;
        let url = format!("/api/v1/users/{id}/picture");
        Ok(self.auth.update_user(id, None, Some(url), self.clock.now()).await?)
    }

    /// `GET /{id}/picture`: bytes and their type.
    pub async fn picture(&self, caller: &Caller, id: UserId) -> Result<(Bytes, &'static str), ApiError> {
        self.visible(caller, id).await?;
        let pass = caller.tenant()?;
        let bytes = match self.objects.get(&pass, &picture_key(id)?).await {
            Err(ObjectError::NotFound) => {
                return Err(ApiError::new(ErrorCode::NotFound, "no picture"));
            }
            other => other.map_err(|e| ApiError::internal("cannot read picture", &e))?,
        };
        let kind = image_type(&bytes).unwrap_or("application/octet-stream");
        Ok((bytes, kind))
    }

    /// `GET /{id}/permissions` in the caller's organization.
    pub async fn permissions(&self, caller: &Caller, id: UserId) -> Result<(Role, Vec<&'static str>), ApiError> {
        let (_, role) = self.visible(caller, id).await?;
        Ok((role, permissions(role)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn permissions_grow_with_the_role() {
        assert!(!permissions(Role::Member).contains(&"members:invite"));
        assert!(permissions(Role::Admin).contains(&"members:invite"));
        assert!(permissions(Role::Owner).contains(&"billing:manage"));
    }
}
