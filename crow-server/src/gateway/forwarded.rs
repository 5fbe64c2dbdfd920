//! What the gateway changes in a request it forwards ([`Edits`]): the headers it strips, and
//! what it adds — its internal key and the verified caller (`X-Organization-Id`, `X-User-Id`,
//! `Authorization: Bearer <jwt>`).
//!
//! A service called in-process gets the edits applied to the request's header map. A service
//! over HTTP gets them applied while the head is written: stripped headers are skipped, added
//! ones appended — no hashed removal or insertion on the hot path.
//!
//! Both are known before the request arrives — the key at start-up, an identity when it is
//! verified (and then reused from the cache) — so both are rendered once, in the two forms the
//! two ways of calling a service need: header values inserted into the request of a service
//! called in-process, and header lines appended to the head written to a service over HTTP.
//!
//! The lines carry secrets (the key, a token): their `Debug` form shows only their length.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use bytes::Bytes;
use crow_core::OrganizationId;
use crow_core::id::UserId;

use super::upstream::Strip;
use crate::http::ApiError;
use crate::http::hop::remove_where;
use crate::http::names::{X_INTERNAL_KEY, X_ORGANIZATION_ID, X_USER_ID};
use crate::http::outgoing::header_line;

/// Header lines (`name: value\r\n`…) rendered from validated header values.
#[derive(Clone, Default)]
pub(super) struct Lines(Bytes);

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lines({} bytes, redacted)", self.0.len())
    }
}

impl Lines {
    fn of<'a>(headers: impl IntoIterator<Item = (HeaderName, &'a HeaderValue)>) -> Self {
        let mut out = Vec::new();
        for (name, value) in headers {
            header_line(&mut out, &name, value);
        }
        Self(out.into())
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The gateway's `X-Internal-Key`, as sent to services.
#[derive(Debug)]
pub(super) struct InternalKey {
    /// Marked sensitive: its `Debug` form hides it.
    value: HeaderValue,
    line: Lines,
}

impl InternalKey {
    /// `None` when the key cannot be a header value (configuration refuses such keys).
    pub(super) fn new(key: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(key).ok()?;
        value.set_sensitive(true);
        Some(Self { line: Lines::of([(X_INTERNAL_KEY, &value)]), value })
    }
}

/// A verified caller, as the gateway forwards it.
#[derive(Debug)]
pub(super) struct Identity {
    /// `X-User-Id`.
    user: Option<HeaderValue>,
    /// `X-Organization-Id`: the internal organization.
    organization: Option<HeaderValue>,
    /// `Authorization: Bearer <jwt>` (none for publishable keys).
    authorization: Option<HeaderValue>,
    /// The three above as lines ([`Identity::headers`]).
    lines: Lines,
    pub(super) publishable: bool,
}

impl Identity {
    pub(super) fn new(
        user: Option<UserId>,
        organization: Option<OrganizationId>,
        jwt: Option<&str>,
        publishable: bool,
    ) -> Result<Self, ApiError> {
        let authorization = match jwt {
            Some(jwt) => {
                let mut value = header_value(&format!("Bearer {jwt}"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let user = user.map(|u| header_value(&u.to_string())).transpose()?;
        let organization = organization.map(|o| header_value(&o.to_string())).transpose()?;
        let mut identity = Self { user, organization, authorization, lines: Lines::default(), publishable };
        identity.lines = Lines::of(identity.headers());
        Ok(identity)
    }

    /// The headers it forwards (those it has).
    fn headers(&self) -> impl Iterator<Item = (HeaderName, &HeaderValue)> {
        [(X_ORGANIZATION_ID, &self.organization), (X_USER_ID, &self.user), (header::AUTHORIZATION, &self.authorization)]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.as_ref()?)))
    }

    /// The internal organization, as forwarded.
    pub(super) fn organization(&self) -> Option<&HeaderValue> {
        self.organization.as_ref()
    }

    /// Whether the identity replaces the request's `Authorization` header.
    pub(super) fn authorizes(&self) -> bool {
        self.authorization.is_some()
    }
}

fn header_value(v: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(v).map_err(|e| ApiError::internal("unrepresentable header", &e))
}

/// What one forwarded request loses and gains. `strip` must select every header of the names
/// added (see `gateway::stripped`): they are added, never merged.
#[derive(Clone, Copy)]
pub(super) struct Edits<'a> {
    pub(super) strip: Strip<'a>,
    pub(super) internal_key: Option<&'a InternalKey>,
    pub(super) identity: Option<&'a Identity>,
}

impl std::fmt::Debug for Edits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edits").field("internal_key", &self.internal_key).field("identity", &self.identity).finish()
    }
}

impl Edits<'_> {
    /// For a service called in-process: applied to the request's header map.
    pub(super) fn apply_to(&self, headers: &mut HeaderMap) {
        remove_where(headers, self.strip);
        if let Some(key) = self.internal_key {
            headers.insert(X_INTERNAL_KEY, key.value.clone());
        }
        for (name, value) in self.identity.into_iter().flat_map(Identity::headers) {
            headers.insert(name, value.clone());
        }
    }

    /// For a service over HTTP: lines for the request's head, after the request's own.
    pub(super) fn lines(&self) -> [&[u8]; 2] {
        [
            self.internal_key.map_or(&[][..], |key| key.line.as_bytes()),
            self.identity.map_or(&[][..], |identity| identity.lines.as_bytes()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_carry_the_same_headers_and_debug_hides_the_secrets() {
        let user = UserId::new();
        let org = OrganizationId::new();
        let identity = Identity::new(Some(user), Some(org), Some("h.p.s"), false).unwrap();
        let key = InternalKey::new("internal-secret").unwrap();
        let strip = |name: &HeaderName| *name == header::AUTHORIZATION;
        let added = Edits { strip: &strip, internal_key: Some(&key), identity: Some(&identity) };
        let mut map = HeaderMap::new();
        map.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer client"));
        added.apply_to(&mut map);
        let mut from_map: Vec<String> =
            map.iter().map(|(n, v)| format!("{}: {}\r\n", n, v.to_str().unwrap())).collect();
        let lines: String = added.lines().iter().map(|l| std::str::from_utf8(l).unwrap()).collect();
        let mut from_lines: Vec<String> = lines.split_inclusive("\r\n").map(str::to_owned).collect();
        from_map.sort();
        from_lines.sort();
        assert_eq!(from_map, from_lines);
        assert_eq!(from_lines.len(), 4);
        assert!(lines.contains(&format!("x-organization-id: {org}\r\n")), "{lines}");
        assert!(lines.contains("authorization: Bearer h.p.s\r\n"), "{lines}");
        let debug = format!("{added:?}");
        assert!(!debug.contains("internal-secret") && !debug.contains("h.p.s"), "{debug}");
        // A publishable key's identity adds no Authorization, and replaces none.
        let publishable = Identity::new(None, Some(org), None, true).unwrap();
        assert!(!publishable.authorizes());
        assert_eq!(
            Edits { strip: &strip, internal_key: None, identity: Some(&publishable) }.lines()[1],
            format!("x-organization-id: {org}\r\n").as_bytes()
        );
    }
}
