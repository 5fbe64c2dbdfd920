//! Typed identifiers. Every entity id is a UUID v7 newtype: time-ordered keys keep B-tree inserts
//! append-only (random v4 keys scatter writes across the index and collapse SQLite insert rates),
//! and distinct types stop an `OrganizationId` from being passed where a `UserId` is expected.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identifier string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: expected a UUID")]
pub struct IdParseError {
    /// Which id type was being parsed.
    pub kind: &'static str,
}

macro_rules! typed_id {
    ($(#[$doc:meta] $name:ident),+ $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUID v7) id.
            #[cfg(feature = "std")]
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (from storage or the wire).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 bytes, big-endian, as stored in databases.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// Rebuilds the id from the 16 stored bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdParseError { kind: stringify!($name) })
            }
        }
    )+};
}

typed_id! {
    /// A person who can sign in.
    UserId,
    /// A sign-in session.
    SessionId,
    /// A credential or OAuth account linked to a user.
    AccountId,
    /// An organization: the tenant boundary of every org-scoped resource.
    OrganizationId,
    /// A user's membership in an organization.
    MemberId,
    /// An invitation to join an organization.
    InvitationId,
    /// An API key (secret or publishable).
    ApiKeyId,
    /// An onboarding flow.
    OnboardingId,
    /// A signing key in the JWKS.
    JwksKeyId,
    /// A catalogue product.
    ProductId,
    /// A product-crawl job.
    CrawlerJobId,
    /// One recorded human–product interaction.
    InteractionId,
    /// A discovered pattern.
    PatternId,
    /// A billing subscription.
    SubscriptionId,
    /// A notification.
    NotificationId,
    /// A usage-analytics event.
    UsageEventId,
    /// A chat conversation.
    ConversationId,
    /// A chat message.
    MessageId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = InteractionId::new();
        let b = InteractionId::new();
        assert!(a < b, "v7 ids generated later must sort later");
        let parsed: InteractionId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        assert_eq!(InteractionId::from_bytes(*a.as_bytes()), a);
        assert_eq!(a.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn bad_id_names_its_type() {
        let err = "nope".parse::<OrganizationId>().unwrap_err();
        assert_eq!(err.to_string(), "invalid OrganizationId: expected a UUID");
    }

    #[test]
    fn serde_is_a_plain_string() {
        let id = UserId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
    }
}
