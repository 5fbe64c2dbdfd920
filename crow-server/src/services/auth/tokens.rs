//! Secret tokens: session tokens, API keys, and their storage digests.
//!
//! Tokens are 256 bits from the OS random source. Only SHA-256 digests are stored: a stolen
//! database yields no usable session or key. (A slow hash is unnecessary for 256-bit random
//! secrets — there is nothing to guess — and would make every request pay for it.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crow_core::ports::auth::TokenHash;
use sha2::{Digest, Sha256};

/// Name of the session cookie (Better Auth's default prefix and name).
pub const SESSION_COOKIE: &str = "better-auth.session_token";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// 32 random bytes.
pub fn random_bytes() -> Result<[u8; 32], getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(b)
}

/// A new session token: 256 random bits, base64url.
pub fn session_token() -> Result<String, getrandom::Error> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes()?))
}

/// `n` base62 characters, uniformly chosen (rejection sampling avoids modulo bias).
pub fn base62(n: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes()? {
            // 248 = 4 × 62: bytes at or above it would favour the first characters.
            if b < 248 && out.len() < n {
                out.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// The stored digest of a token or key.
pub fn digest(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// The session token from a `Cookie` header, if present. Better Auth's own cookies carry
/// `token.signature`; only the token part identifies the session.
pub fn session_from_cookies<'a>(cookie_headers: impl Iterator<Item = &'a str>) -> Option<String> {
    cookie_headers
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE || *name == "__Secure-better-auth.session_token")
        .map(|(_, value)| {
            value
                .trim_matches('"')
                .split("%2E")
                .next()
                .unwrap_or_default()
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = session_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, session_token().unwrap());
        let k = base62(43).unwrap();
        assert_eq!(k.len(), 43);
        assert!(k.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn finds_the_session_cookie() {
        let headers = ["theme=dark; better-auth.session_token=abc123.sig; other=1"];
        assert_eq!(session_from_cookies(headers.iter().copied()), Some("abc123".into()));
        assert_eq!(session_from_cookies(["x=1"].iter().copied()), None);
        assert_eq!(session_from_cookies(["better-auth.session_token="].iter().copied()), None);
    }
}
