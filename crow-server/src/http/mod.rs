//! HTTP plumbing shared by every service: the JSON error type, the internal-key guard, probes
//! and the outer middleware stack. Only `crow-server` knows axum.

pub mod caller;
pub mod credentials;
pub mod edge;
pub mod error;
pub(crate) mod fields;
pub(crate) mod framing;
pub(crate) mod h1;
pub(crate) mod hop;
pub mod internal_key;
pub mod names;
pub mod origins;
pub(crate) mod outgoing;
pub mod probes;
pub mod rate_limit;
pub mod sdk;
pub(crate) mod security;
pub mod serve;

pub use error::ApiError;
