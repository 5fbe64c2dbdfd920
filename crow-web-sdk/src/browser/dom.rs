//! The page's state the tracker reads and writes through host.js: storage, time, randomness and
//! the URL. Storage can refuse (private mode, quota) or be missing; a refusal reads as nothing
//! stored and a write that fails is skipped, so the tracker carries on in memory.

use alloc::borrow::ToOwned;
use alloc::string::String;

use super::host;

/// Which Web Storage: `localStorage` outlives the tab, `sessionStorage` the page.
#[derive(Clone, Copy, Debug)]
pub enum Store {
    Local,
    Session,
}

pub fn now_ms() -> i64 {
    host::clock() as i64
}

pub fn new_id() -> String {
    let mut bytes = [0u8; 10];
    host::random(&mut bytes);
    crate::uuid::v7(u64::try_from(now_ms()).unwrap_or(0), bytes)
}

pub fn get(store: Store, key: &str) -> Option<String> {
    host::load(matches!(store, Store::Local), key)
}

/// Stores `value` under `key`; an empty value removes the key.
pub fn set(store: Store, key: &str, value: &str) {
    host::store(matches!(store, Store::Local), key, value);
}

/// The page URL without its fragment.
pub fn url() -> String {
    let href = host::href();
    crate::fields::split(&href, b'#').next().unwrap_or_default().to_owned()
}
