//! Ports: what the services need from the outside world, as async traits with their own errors.
//!
//! Services hold `Arc<dyn Port>` and never name a backend. `crow-server` implements each port
//! once per backend (SQLite/PostgreSQL, local files/S3, in-process queue/NATS, memory/Redis,
//! offline AI/OpenAI-compatible) and proves them interchangeable with one conformance suite per
//! port. Errors say what the caller can do about them (retry, fix input, give up), not which
//! library failed; the source is kept for logs.

pub mod ai;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod objects;
pub mod queue;
pub mod store;

/// A boxed error from a backend, kept as the `source` of port errors.
pub type BoxError = alloc::boxed::Box<dyn core::error::Error + Send + Sync + 'static>;
