//! Timestamps: milliseconds since the Unix epoch, UTC.
//!
//! Stored as integers (compact, sortable, the same in SQLite and PostgreSQL) and written on the
//! wire as RFC 3339 strings, which is what Better Auth clients and dashboards expect. Deserializing
//! also accepts a bare integer of milliseconds, which is what browsers produce with `Date.now()`.

use alloc::string::String;
use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, UTC, millisecond precision.
///
/// RFC 3339 writes years 0000 to 9999, so values read from outside ([`Self::MIN`],
/// [`Self::MAX`]) are refused: accepted, they would be written as text no reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);
    /// 0000-01-01T00:00:00.000Z, the earliest instant RFC 3339 can write.
    pub const MIN: Self = Self(-62_167_219_200_000);
    /// 9999-12-31T23:59:59.999Z, the latest instant RFC 3339 can write.
    pub const MAX: Self = Self(253_402_300_799_999);

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The wall clock now. Services take time from the `Clock` port instead, so tests can fix it.
    #[cfg(feature = "std")]
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(ms)
    }

    /// This timestamp moved by a signed number of milliseconds, saturating.
    pub const fn add_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Whole milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn millis_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 text, e.g. `2026-11-22T18:47:56.123Z`. Instants outside [`Self::MIN`] ..=
    /// [`Self::MAX`] (reachable only by arithmetic, never by reading) are written as the nearest
    /// bound, so the text always reads back.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0.clamp(Self::MIN.0, Self::MAX.0)) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| String::from("invalid-timestamp"))
    }

    /// Parses RFC 3339 text.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        let ms = t.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms).ok().and_then(Self::in_range)
    }

    /// `ms` as a timestamp when RFC 3339 can write it.
    fn in_range(ms: i64) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0).contains(&ms).then_some(Self(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

const OUT_OF_RANGE: &str = "timestamp out of range (years 0000 to 9999)";

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or milliseconds since the epoch")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(v).ok_or_else(|| E::custom("invalid RFC 3339 timestamp"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Timestamp::in_range(v).ok_or_else(|| E::custom(OUT_OF_RANGE))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v).ok().and_then(Timestamp::in_range).ok_or_else(|| E::custom(OUT_OF_RANGE))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                // `performance.timeOrigin + performance.now()` yields fractional milliseconds.
                if v.is_finite() && v.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    self.visit_i64(v as i64)
                } else {
                    Err(E::custom(OUT_OF_RANGE))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_keeps_millis() {
        let t = Timestamp::from_millis(1_795_373_276_123);
        let s = t.to_rfc3339();
        assert_eq!(s, "2026-11-22T18:47:56.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&s), Some(t));
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        let a: Timestamp = serde_json::from_str("\"2026-11-22T18:47:56.123Z\"").unwrap();
        let b: Timestamp = serde_json::from_str("1795373276123").unwrap();
        let c: Timestamp = serde_json::from_str("1795373276123.7").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1e300").is_err());
    }

    #[test]
    fn only_instants_rfc3339_can_write_are_read_and_every_one_is_written_readably() {
        // Found by the tracker-event fuzz target: a millisecond count past year 9999 was
        // accepted, then written as text that could not be read back.
        for ms in ["1732300002300000000", "253402300800000", "-62167219200001", "-9223372036854775808"] {
            assert!(serde_json::from_str::<Timestamp>(ms).is_err(), "{ms}");
        }
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::EPOCH] {
            let text = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Timestamp>(&text).unwrap(), t, "{text}");
        }
        assert_eq!(Timestamp::MAX.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::MIN.to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_millis(i64::MAX).to_rfc3339(), Timestamp::MAX.to_rfc3339());
    }
}
