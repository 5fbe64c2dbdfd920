//! What to do with an answer from ingest, and how long to wait before trying again.

/// The fate of a sent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: forget the events.
    Done,
    /// Transient (network error, 408, 429, 5xx): keep the events, retry later.
    Retry,
    /// Refused for good (other 4xx): resending cannot help, so drop them.
    Drop,
}

/// Classifies an HTTP status; 0 stands for a network error.
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Done,
        0 | 408 | 429 | 500..=599 => Outcome::Retry,
        _ => Outcome::Drop,
    }
}

/// First retry delay.
pub const BASE_MS: u64 = 1_000;
/// Longest delay.
pub const CAP_MS: u64 = 60_000;

/// Exponential backoff with jitter for the `attempt`-th consecutive failure (0-based): a delay in
/// `[d/2, d]` where `d = min(CAP, BASE·2^attempt)`, so clients that failed together spread out.
/// A server's `Retry-After` is a floor.
pub fn delay_ms(attempt: u32, retry_after_ms: Option<u64>, unit_random: f64) -> u64 {
    let d = BASE_MS.saturating_mul(1u64 << attempt.min(16)).min(CAP_MS);
    let jittered = d / 2 + ((d / 2) as f64 * unit_random.clamp(0.0, 1.0)) as u64;
    jittered.max(retry_after_ms.unwrap_or(0).min(10 * CAP_MS))
}

/// Parses `Retry-After` given in seconds (the HTTP-date form is not used by ingest).
pub fn retry_after_ms(header: Option<&str>) -> Option<u64> {
    // HTTP whitespace is ASCII (RFC 9110 §5.6.3: spaces and tabs).
    let secs = crate::num::parse_u64(header?.trim_ascii())?;
    Some(secs.min(u64::MAX / 1000) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        assert_eq!(outcome(202), Outcome::Done);
        for s in [0, 408, 429, 500, 502, 503, 504] {
            assert_eq!(outcome(s), Outcome::Retry, "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert_eq!(outcome(s), Outcome::Drop, "{s}");
        }
    }

    #[test]
    fn backs_off_exponentially_with_jitter_and_honours_retry_after() {
        assert_eq!(delay_ms(0, None, 0.0), 500);
        assert_eq!(delay_ms(0, None, 1.0), 1000);
        assert_eq!(delay_ms(3, None, 1.0), 8000);
        assert_eq!(delay_ms(30, None, 1.0), CAP_MS);
        assert!((CAP_MS / 2..=CAP_MS).contains(&delay_ms(30, None, 0.3)));
        assert_eq!(delay_ms(0, retry_after_ms(Some("7")), 0.0), 7000);
        assert_eq!(retry_after_ms(Some("soon")), None);
        assert_eq!(retry_after_ms(Some(" 7\t")), Some(7000));
    }
}
