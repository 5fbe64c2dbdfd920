//! The CROW browser tracker.
//!
//! A storefront adds `<script src="https://HOST/sdk/crow.js" data-key="crow_pk_…" async>`. The
//! loader (`loader/crow.js`, plain JavaScript, under 1 KB) queues calls until this module has
//! loaded, then replays them. Everything that can be decided without a browser — event JSON,
//! the durable outbox, retry policy, rage clicks, sessions, privacy — lives in plain modules
//! with native tests; `browser` (wasm32 only) wires them to the page through a small
//! JavaScript host (`browser/host.js`, bound with wasm-bindgen) that reads DOM facts and storage
//! into strings and numbers and runs listeners, timers and fetch for it. Not web-sys: each
//! web-sys object the tracker held (window, document, two storages, location, crypto) cost an
//! externref handle, a glue shim per method and `Result`/`Option` plumbing in the wasm — about
//! 1.5 KB of the gzipped tracker for what host.js does in a few lines.
//!
//! Dependency direction: `browser` → the pure modules → `alloc`. On wasm32 the crate is `no_std`
//! with a panic handler that traps without formatting and a small free-list allocator: std's
//! panic machinery and dlmalloc alone were larger than the tracker. No serde, no `core::fmt`, no
//! async runtime, for the same reason.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod clicks;
pub mod event;
pub mod fields;
pub mod json;
pub mod num;
pub mod path;
pub mod privacy;
pub mod queue;
pub mod retry;
pub mod scroll;
pub mod session;
pub mod uuid;

#[cfg(target_arch = "wasm32")]
mod browser;

/// Events per request; also the count that triggers an immediate flush.
pub const BATCH: usize = 20;
/// Longest wait before captured events are sent.
pub const FLUSH_MS: i32 = 5_000;

/// A panic in the tracker becomes a trap in the wasm call; the loader catches it, so the page
/// never sees it. Formatting the message would pull in `core::fmt`.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// A page is single-threaded; the lock never spins.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[cfg(test)]
mod tests {
    /// README gives shops the stub to paste; the browser test runs `loader/stub.js`. They must be
    /// the same script, or the documented one is untested.
    #[test]
    fn readme_carries_the_tested_stub() {
        let stub = include_str!("../loader/stub.js").trim();
        let readme = include_str!("../../README.md");
        assert!(readme.contains(&format!("<script>{stub}</script>")), "README's stub differs from loader/stub.js");
    }
}
