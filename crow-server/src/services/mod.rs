//! The services of the routing table, one module each. A service's module owns its axum router
//! (`http.rs`) and its logic behind the ports (`service.rs`) once its issue fills it in; until
//! then it serves its health and readiness probes only — no endpoint is faked.
//!
//! `ServiceName` is the one list of services: routing, `--services`, and the gateway's table
//! all derive from it.

mod analytics;
pub mod auth;
mod billing;
mod cctv;
mod chat;
pub mod ingest;
pub mod interactions;
mod mcp;
mod notifications;
pub mod organizations;
mod patterns;
mod products;
mod qna;
pub mod users;

use axum::Router;

use crate::app::AppState;

macro_rules! services {
    ($($variant:ident = $name:literal [$($segment:literal),+] => $module:ident),+ $(,)?) => {
        /// A service this process can host.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ServiceName { $($variant,)+ }

        impl ServiceName {
            /// Every service, in routing-table order.
            pub const ALL: [ServiceName; [$($name),+].len()] = [$(ServiceName::$variant,)+];

            /// The name used in `--services` and logs.
            pub const fn as_str(self) -> &'static str {
                match self { $(ServiceName::$variant => $name,)+ }
            }

            /// Parses a `--services` entry.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(ServiceName::$variant),)+ _ => None }
            }

            /// The service a path segment after `/api/v1/` routes to (one `match`, which the
            /// compiler turns into a switch on length and a compare; the gateway asks on every
            /// request).
            pub fn from_segment(segment: &str) -> Option<Self> {
                match segment { $($($segment)|+ => Some(ServiceName::$variant),)+ _ => None }
            }

            /// The path segments after `/api/v1/` that route to this service.
            pub const fn segments(self) -> &'static [&'static str] {
                match self { $(ServiceName::$variant => &[$($segment),+],)+ }
            }

            /// The service's router, mounted under each of its segments.
            pub(crate) fn router(self, state: &AppState) -> Router<AppState> {
                match self { $(ServiceName::$variant => $module::router(state),)+ }
            }

            /// How long the gateway may cache this service's successful GET answers, per
            /// organization. Only services whose GET answers depend on nothing but the path, the
            /// query and the organization may opt in (not users: `/me` differs per user).
            pub const fn gateway_cache_ttl(self) -> Option<std::time::Duration> {
                match self {
                    ServiceName::Organizations => Some(std::time::Duration::from_secs(30)),
                    _ => None,
                }
            }

            /// Whether the service's routes require `X-Internal-Key`. Per the specification the
            /// auth service is reached directly (it is how callers obtain credentials); its
            /// internal routes check `X-Service-API-Key` instead.
            pub const fn requires_internal_key(self) -> bool {
                !matches!(self, ServiceName::Auth)
            }
        }
    };
}

services! {
    Auth = "auth" ["auth", "better-auth"] => auth,
    Users = "users" ["users"] => users,
    Organizations = "organizations" ["organizations"] => organizations,
    Products = "products" ["products", "crawler-jobs"] => products,
    Interactions = "interactions" ["interactions"] => interactions,
    Patterns = "patterns" ["patterns"] => patterns,
    Billing = "billing" ["billing"] => billing,
    Notifications = "notifications" ["notifications"] => notifications,
    Analytics = "analytics" ["analytics"] => analytics,
    Chat = "chat" ["chat"] => chat,
    Qna = "qna" ["qna"] => qna,
    Mcp = "mcp" ["mcp"] => mcp,
    Cctv = "cctv" ["cctv"] => cctv,
    Ingest = "ingest" ["ingest"] => ingest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_unique_and_names_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for s in ServiceName::ALL {
            assert_eq!(ServiceName::parse(s.as_str()), Some(s));
            for seg in s.segments() {
                assert_eq!(ServiceName::from_segment(seg), Some(s));
                assert!(seen.insert(*seg), "segment {seg} routed twice");
            }
        }
        // The seeds' routing table plus web ingest.
        assert_eq!(seen.len(), 16);
        assert_eq!(ServiceName::from_segment("nope"), None);
    }
}
