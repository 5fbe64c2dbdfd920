//! HTTP plumbing shared by every service: the JSON error type, the internal-key guard, probes
//! and the outer middleware stack. Only `crow-server` knows axum.

pub mod error;
pub mod internal_key;
pub mod probes;

pub use error::ApiError;
