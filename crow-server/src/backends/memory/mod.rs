//! In-memory backends for the embedded deployment.

mod cache;

pub use cache::MemoryCache;
