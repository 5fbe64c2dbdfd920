//! Stable error codes and the one JSON error body every CROW service answers with.
//!
//! The body is Better Auth's shape, `{ "message": ..., "code": ... }`, so the auth routes and every
//! other service look alike to clients. Codes are UPPER_SNAKE_CASE and never change meaning once
//! released: clients match on `code`, people read `message`. Each code maps to exactly one HTTP
//! status here, in one exhaustive `match`, so a service cannot answer "not found" with a 500.

use alloc::string::{String, ToString};
use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal)),+ $(,)?) => {
        /// Every error code a CROW service can answer with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, for tables and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The wire form, e.g. `NOT_FOUND`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The HTTP status this code is always sent with.
            pub const fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// Parses the wire form; `None` for codes this build does not know.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

error_codes! {
    /// The request is malformed in a way no other code describes.
    BadRequest = ("BAD_REQUEST", 400),
    /// The body is not valid JSON, or not the JSON shape the route takes.
    InvalidJson = ("INVALID_JSON", 400),
    /// A query parameter or path segment is malformed.
    InvalidParameter = ("INVALID_PARAMETER", 400),
    /// No credentials, or credentials that do not verify.
    Unauthorized = ("UNAUTHORIZED", 401),
    /// The `X-Internal-Key` header is missing or wrong.
    InvalidInternalKey = ("INVALID_INTERNAL_KEY", 401),
    /// Authenticated, but not allowed to touch this resource (BOLA check failed).
    Forbidden = ("FORBIDDEN", 403),
    /// The caller has no active organization, and the route is organization-scoped.
    NoActiveOrganization = ("NO_ACTIVE_ORGANIZATION", 403),
    /// The resource does not exist (or is not visible to the caller).
    NotFound = ("NOT_FOUND", 404),
    /// The route exists, but not for this HTTP method.
    MethodNotAllowed = ("METHOD_NOT_ALLOWED", 405),
    /// The request conflicts with existing state (duplicate, wrong state for the transition).
    Conflict = ("CONFLICT", 409),
    /// The body exceeds the route's size limit.
    PayloadTooLarge = ("PAYLOAD_TOO_LARGE", 413),
    /// The request head (request line and headers) exceeds the server's limit.
    HeadersTooLarge = ("REQUEST_HEADERS_TOO_LARGE", 431),
    /// The body's `Content-Type` is not one the route reads.
    UnsupportedMediaType = ("UNSUPPORTED_MEDIA_TYPE", 415),
    /// Well-formed, but the values break a rule.
    ValidationFailed = ("VALIDATION_FAILED", 422),
    /// Too many requests; retry after the `Retry-After` header.
    RateLimited = ("RATE_LIMITED", 429),
    /// An unexpected failure. The message never carries internal detail.
    InternalError = ("INTERNAL_ERROR", 500),
    /// An upstream service answered badly.
    BadGateway = ("BAD_GATEWAY", 502),
    /// The service cannot serve now (not configured, overloaded, shutting down).
    ServiceUnavailable = ("SERVICE_UNAVAILABLE", 503),
    /// An upstream service did not answer in time.
    UpstreamTimeout = ("UPSTREAM_TIMEOUT", 504),

    // Auth codes, spelled and statused as Better Auth does so its clients understand them.
    /// Sign-up with an email that already has an account.
    UserAlreadyExists = ("USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", 422),
    /// Unknown email or wrong password — deliberately the same answer.
    InvalidEmailOrPassword = ("INVALID_EMAIL_OR_PASSWORD", 401),
    /// Not an email address.
    InvalidEmail = ("INVALID_EMAIL", 400),
    /// Password below the minimum length.
    PasswordTooShort = ("PASSWORD_TOO_SHORT", 400),
    /// Password above the maximum length.
    PasswordTooLong = ("PASSWORD_TOO_LONG", 400),
    /// Sign-up from a blocked (consumer) email domain.
    EmailDomainNotAllowed = ("EMAIL_DOMAIN_NOT_ALLOWED", 400),
    /// A cookie-carrying state change from an untrusted or missing `Origin` (CSRF).
    InvalidOrigin = ("INVALID_ORIGIN", 403),
    /// No such organization.
    OrganizationNotFound = ("ORGANIZATION_NOT_FOUND", 400),
    /// The slug is taken.
    OrganizationAlreadyExists = ("ORGANIZATION_ALREADY_EXISTS", 400),
    /// The caller is not a member of that organization.
    NotAMember = ("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", 403),
    /// The caller's role may not do this in the organization.
    NotAllowed = ("YOU_ARE_NOT_ALLOWED_TO_PERFORM_THIS_ACTION", 403),
    /// Invitation missing, expired or no longer pending.
    InvitationNotFound = ("INVITATION_NOT_FOUND", 400),
    /// The invitation is for another email.
    NotInvitationRecipient = ("YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", 403),
    /// The user is already a member.
    AlreadyMember = ("USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", 400),
    /// No such member in the organization.
    MemberNotFound = ("MEMBER_NOT_FOUND", 400),
    /// No such API key for the caller.
    KeyNotFound = ("KEY_NOT_FOUND", 404),
    /// An onboarding step out of order or already done.
    InvalidOnboardingStep = ("INVALID_ONBOARDING_STEP", 409),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON error body: `{ "message": "...", "code": "NOT_FOUND" }`.
///
/// `code` stays a string on the wire so a client built against an older crow-core still reads
/// codes that a newer server introduces; [`ErrorBody::known_code`] maps it back when it can.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable explanation, safe to show to the caller.
    pub message: String,
    /// Stable machine-readable code.
    pub code: String,
}

impl ErrorBody {
    /// A body for a known code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { message: message.into(), code: code.as_str().to_string() }
    }

    /// The code, when this build knows it.
    pub fn known_code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_snake_and_round_trip() {
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
            assert_eq!(ErrorCode::parse(s), Some(*code));
            assert!((400..600).contains(&code.http_status()));
        }
    }

    #[test]
    fn body_has_better_auth_shape() {
        let body = ErrorBody::new(ErrorCode::Forbidden, "nope");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json, serde_json::json!({ "message": "nope", "code": "FORBIDDEN" }));
        let unknown: ErrorBody = serde_json::from_str(r#"{"message":"m","code":"FUTURE_CODE"}"#).unwrap();
        assert_eq!(unknown.known_code(), None);
    }
}
