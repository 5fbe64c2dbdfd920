//! What the tracker reads through web-sys: storage, time, randomness and the URL.

use alloc::borrow::ToOwned;
use alloc::string::String;

use web_sys::{Storage, Window};

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn perf_now(w: &Window) -> f64 {
    w.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// `len` random bytes from `crypto.getRandomValues`, `Math.random` if that is unavailable.
pub fn random<const N: usize>(w: &Window) -> [u8; N] {
    let mut b = [0u8; N];
    let ok = w.crypto().ok().is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
    if !ok {
        for x in &mut b {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    b
}

pub fn new_id(w: &Window) -> String {
    crate::uuid::v7(u64::try_from(now_ms()).unwrap_or(0), random::<10>(w))
}

pub fn local(w: &Window) -> Option<Storage> {
    w.local_storage().ok().flatten()
}

pub fn session(w: &Window) -> Option<Storage> {
    w.session_storage().ok().flatten()
}

pub fn get(s: Option<&Storage>, key: &str) -> Option<String> {
    s?.get_item(key).ok().flatten()
}

/// Storage can refuse (quota, private mode); the tracker carries on in memory.
pub fn set(s: Option<&Storage>, key: &str, value: &str) {
    if let Some(s) = s {
        let _ = if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) };
    }
}

/// The page URL without its fragment.
pub fn url(w: &Window) -> String {
    let href = w.location().href().unwrap_or_default();
    match href.split_once('#') {
        Some((u, _)) => u.to_owned(),
        None => href,
    }
}
