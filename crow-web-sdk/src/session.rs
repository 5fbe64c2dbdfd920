//! Cookieless sessions: an id in sessionStorage, rotated after 30 idle minutes.

use alloc::borrow::ToOwned;
use alloc::string::String;

/// Idle time after which a new session starts.
pub const IDLE_MS: i64 = 30 * 60 * 1000;

/// Given the stored `"id|last_activity_ms"` (if any) and the time now, the session id to use and
/// the value to store back. `fresh` makes a new id when needed.
pub fn touch(stored: Option<&str>, now: i64, fresh: impl FnOnce() -> String) -> (String, String) {
    let current = stored.and_then(|s| {
        let mut parts = crate::fields::split(s, b'|');
        let (id, last) = (parts.next()?, parts.next()?);
        // Parsed as u64 like `Retry-After` (one integer parser in the wasm); stored times are
        // never negative.
        let last = i64::try_from(crate::num::parse_u64(last)?).ok()?;
        (!id.is_empty() && now - last < IDLE_MS && now >= last - IDLE_MS).then(|| id.to_owned())
    });
    let id = current.unwrap_or_else(fresh);
    let mut saved = id.clone();
    saved.push('|');
    crate::json::int(&mut saved, now);
    (id, saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_session_while_active_and_rotates_after_idle() {
        let (id, saved) = touch(None, 1000, || "a".into());
        assert_eq!((id.as_str(), saved.as_str()), ("a", "a|1000"));
        let (id, saved) = touch(Some(&saved), 1000 + IDLE_MS - 1, || "b".into());
        assert_eq!(id, "a");
        let (id, _) = touch(Some(&saved), 1000 + 2 * IDLE_MS, || "c".into());
        assert_eq!(id, "c");
        let (id, _) = touch(Some("garbage"), 5, || "d".into());
        assert_eq!(id, "d");
    }
}
