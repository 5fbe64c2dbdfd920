//! CROW's shared vocabulary: domain types, the tracker event schema, tenancy (BOLA) checks,
//! the error codes every service answers with, and the ports that backends implement.
//!
//! This crate does no I/O and pins no runtime or transport, so the server, the client, the
//! bindings and the browser tracker (wasm32, default features off) all share one definition of
//! every wire type. Backends live in `crow-server`; this crate only says what they must do.

extern crate alloc;

pub mod api;
pub mod domain;
pub mod error;
pub mod event;
pub mod id;
pub mod ports;
pub mod tenancy;
pub mod time;

pub use error::{ErrorBody, ErrorCode};
pub use id::OrganizationId;
pub use tenancy::{Caller, Principal, TenancyError, TenantPass};
pub use time::Timestamp;
