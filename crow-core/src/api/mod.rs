//! Wire types shared by `crow-server` and `crow-client` that belong to no single entity.

pub mod auth;

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// `GET /health` (and `/api/v1/{service}/health`): the process is up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` when the answer arrives at all.
    pub status: String,
    /// Which service answered (`crow-server` for the process).
    pub service: String,
    /// Build version.
    pub version: String,
}

/// One dependency checked by a readiness probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Dependency name (`database`, `queue`, …).
    pub name: String,
    /// Whether it answered.
    pub ok: bool,
    /// Why not, when it did not. Never contains secrets or connection strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /ready`: the process can serve (status 200) or not (503), with each check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// `ready` or `not_ready`.
    pub status: String,
    /// The checks made.
    pub checks: Vec<Check>,
}
