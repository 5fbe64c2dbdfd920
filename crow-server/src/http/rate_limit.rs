//! GCRA rate limiting per client address (IPv4 per address, IPv6 per /64, since one host
//! commonly holds a whole /64).
//!
//! GCRA keeps one number per key — the theoretical arrival time (TAT) of the next request — so
//! memory is one map entry per active client. Entries whose TAT has passed carry no state (they
//! equal a fresh key) and are evicted when the map reaches its bound, keeping memory bounded
//! even under a flood of spoofed-looking distinct addresses. A full map is swept only once the
//! earliest TAT in it has passed: sweeping it for every newcomer would let a flood of distinct
//! addresses buy a scan of the whole map per request.
//!
//! The map hashes with foldhash, seeded per process: every request is checked, SipHash cost
//! more than the check, and a client cannot choose its address freely enough to flood one
//! bucket of a seeded hash.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use foldhash::fast::RandomState;

/// The key a client is limited by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// One IPv4 address.
    V4(u32),
    /// One IPv6 /64 prefix.
    V6(u64),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(u32::from(v4)),
                None => ClientKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// A GCRA limiter: `rate` requests per `period` on average, bursts of up to `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    tats: Mutex<Tats>,
    /// Milliseconds between requests at the sustained rate.
    interval_ms: i64,
    /// How far ahead of now a TAT may run (burst tolerance).
    tolerance_ms: i64,
    max_keys: usize,
}

#[derive(Debug, Default)]
struct Tats {
    by_client: HashMap<ClientKey, i64, RandomState>,
    /// No entry's TAT is earlier: before then, a sweep would evict nothing.
    earliest: i64,
    /// Sweeps of a full map so far.
    sweeps: u64,
}

impl RateLimiter {
    /// `rate` per `period`, with bursts of `burst`; at most `max_keys` clients tracked.
    pub fn new(rate: u32, period: Duration, burst: u32, max_keys: usize) -> Self {
        let interval_ms = (i64::try_from(period.as_millis()).unwrap_or(i64::MAX) / i64::from(rate.max(1))).max(1);
        Self {
            tats: Mutex::new(Tats::default()),
            interval_ms,
            tolerance_ms: interval_ms * i64::from(burst.max(1) - 1),
            max_keys: max_keys.max(1),
        }
    }

    /// Admits a request from `ip` at `now_ms`, or says how long to wait. Fails closed: if the
    /// limiter's lock is poisoned, requests are refused.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), Duration> {
        let Ok(mut tats) = self.tats.lock() else {
            return Err(Duration::from_secs(1));
        };
        let key = ClientKey::from(ip);
        let Tats { by_client, earliest, sweeps } = &mut *tats;
        if by_client.len() >= self.max_keys && !by_client.contains_key(&key) {
            if now_ms >= *earliest {
                *sweeps += 1;
                let mut next = i64::MAX;
                by_client.retain(|_, tat| {
                    next = next.min(*tat);
                    *tat > now_ms
                });
                *earliest = next.max(now_ms + 1);
            }
            if by_client.len() >= self.max_keys {
                // Still full of active clients: refuse newcomers rather than grow.
                let wait = (*earliest - now_ms).max(1);
                return Err(Duration::from_millis(u64::try_from(wait).unwrap_or(1000)));
            }
        }
        // One lookup for the read and the update.
        let entry = by_client.entry(key);
        let tat = match &entry {
            Entry::Occupied(e) => (*e.get()).max(now_ms),
            Entry::Vacant(_) => now_ms,
        };
        let ahead = tat - now_ms;
        if ahead > self.tolerance_ms {
            let wait = ahead - self.tolerance_ms;
            return Err(Duration::from_millis(u64::try_from(wait).unwrap_or(1)));
        }
        let next = tat + self.interval_ms;
        entry.insert_entry(next);
        *earliest = (*earliest).min(next);
        Ok(())
    }

    /// Clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.tats.lock().map_or(0, |t| t.by_client.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allows_burst_then_the_sustained_rate() {
        let l = RateLimiter::new(60, Duration::from_secs(60), 3, 100);
        let a = ip("10.0.0.1");
        assert!((0..3).all(|_| l.check(a, 0).is_ok()), "burst of 3");
        let wait = l.check(a, 0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(1000));
        assert!(l.check(a, 1000).is_ok(), "one more after the interval");
        assert!(l.check(ip("10.0.0.2"), 0).is_ok(), "other clients are independent");
    }

    #[test]
    fn ipv6_is_limited_per_slash_64() {
        let l = RateLimiter::new(60, Duration::from_secs(60), 1, 100);
        assert!(l.check(ip("2001:db8::1"), 0).is_ok());
        assert!(l.check(ip("2001:db8::ffff"), 0).is_err(), "same /64");
        assert!(l.check(ip("2001:db8:0:1::1"), 0).is_ok(), "next /64");
    }

    #[test]
    fn memory_stays_bounded() {
        let l = RateLimiter::new(60, Duration::from_secs(60), 1, 50);
        for i in 0..10_000u32 {
            let _ = l.check(IpAddr::V4(i.into()), i64::from(i) * 2000);
        }
        assert!(l.tracked() <= 50);
    }

    #[test]
    fn a_full_map_is_swept_only_when_an_entry_can_have_expired() {
        // One request a minute: an entry stays active for 60 s.
        let l = RateLimiter::new(1, Duration::from_secs(60), 1, 100);
        for i in 0..100u32 {
            assert!(l.check(IpAddr::V4(i.into()), i64::from(i)).is_ok());
        }
        // A flood of newcomers while every entry is active: refused, with one sweep in all.
        for i in 100..10_100u32 {
            assert!(l.check(IpAddr::V4(i.into()), 1_000).is_err());
        }
        let sweeps = || l.tats.lock().map(|t| t.sweeps).unwrap_or(0);
        assert_eq!(sweeps(), 1);
        // Tracked clients go on being served, and the first entry's expiry makes room.
        assert!(l.check(IpAddr::V4(5u32.into()), 60_005).is_ok());
        assert!(l.check(IpAddr::V4(20_000u32.into()), 60_001).is_ok(), "the entry from 0 ms expired at 60 s");
        assert_eq!(sweeps(), 2);
    }
}
