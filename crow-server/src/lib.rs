//! `crow-server` hosts every CROW service. By default one process serves them all with embedded
//! backends (SQLite, local files, an in-process durable queue, an in-memory cache); `--services`
//! runs a subset, for split deployments behind the gateway.
//!
//! Dependency direction: `main` → `app` → (`http`, `services`, `runtime`) → `backends` →
//! `crow-core`. Services see ports (traits from `crow-core`), never a backend type.

pub mod app;
pub mod backends;
pub mod config;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod gateway;
pub mod http;
pub mod jwt;
pub mod memo;
pub mod runtime;
pub mod secrets;
pub mod services;

pub use app::{Server, StartError};
pub use config::{Config, ConfigError, Layers};
