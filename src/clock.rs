//! One clock and one time type. Storage keeps Unix milliseconds (UTC); the API speaks
//! RFC 3339 with milliseconds; pages show UTC in words. Only [`Clock::now`] reads the time:
//! one clock is made at startup and travels with the database handle ([`crate::db::Db::now`]),
//! storage functions are handed `now`, and tests move a [`Clock::movable`] clock ahead
//! instead of waiting.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

const HOUR_MS: i64 = 60 * 60 * 1000;
/// One hour.
pub const HOUR: Duration = Duration::from_secs(60 * 60);

/// Where the time comes from: the system's, or (tests) the system's moved ahead by a
/// [`ClockHand`]. Time keeps running either way, so timeouts and leases behave as in
/// production; a retry an hour away is reached by moving the clock an hour.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Option<Arc<AtomicI64>>,
}

/// Moves a [`Clock::movable`] clock ahead.
#[derive(Debug, Clone)]
pub struct ClockHand {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that runs with the system's and that its hand moves ahead.
    pub fn movable() -> (Self, ClockHand) {
        let ahead_ms = Arc::new(AtomicI64::new(0));
        let hand = ClockHand {
            ahead_ms: Arc::clone(&ahead_ms),
        };
        (
            Self {
                ahead_ms: Some(ahead_ms),
            },
            hand,
        )
    }

    pub fn now(&self) -> Timestamp {
        let now = Timestamp::from_datetime(OffsetDateTime::now_utc());
        match &self.ahead_ms {
            Some(ahead_ms) => Timestamp(now.0 + ahead_ms.load(Ordering::Relaxed)),
            None => now,
        }
    }
}

impl ClockHand {
    pub fn advance(&self, by: Duration) {
        let by_ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(by_ms, Ordering::Relaxed);
    }
}

/// A moment, in Unix milliseconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_ms(unix_ms: i64) -> Self {
        Self(unix_ms)
    }

    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    /// The start of this moment's hour (UTC): the unit of the hourly delivery counts.
    pub const fn start_of_hour(self) -> Self {
        Self(self.0.div_euclid(HOUR_MS) * HOUR_MS)
    }

    /// "14:00": the hour of the day this moment falls in, UTC.
    pub fn hour_of_day(self) -> String {
        self.format(format_description!("[hour]:00"))
    }

    /// Any RFC 3339 time (any offset), e.g. `2026-01-15T09:30:00Z`.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    /// What a browser's `datetime-local` field sends, `2026-01-15T09:30`, read as UTC (the
    /// console's time zone); RFC 3339 is taken too.
    pub fn parse_utc_minutes(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::parse_rfc3339(text).or_else(|| {
            time::PrimitiveDateTime::parse(
                text,
                format_description!("[year]-[month]-[day]T[hour]:[minute]"),
            )
            .ok()
            .map(|at| Self::from_datetime(at.assume_utc()))
        })
    }

    /// `2026-01-15T09:30`: the value a `datetime-local` field shows, in UTC.
    pub fn utc_minutes(self) -> String {
        self.format(format_description!("[year]-[month]-[day]T[hour]:[minute]"))
    }

    /// `2026-01-15T09:30:00.000Z`: UTC with milliseconds, as the API and receivers get it.
    pub fn rfc3339(self) -> String {
        self.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
    }

    /// "27 Nov 2026, 14:05 UTC": the console shows UTC, the time zone of the logs.
    pub fn absolute(self) -> String {
        self.format(format_description!(
            "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
        ))
    }

    /// "27 Nov 2026, 14:05:09 UTC": for logs, where order within a minute matters.
    pub fn absolute_seconds(self) -> String {
        self.format(format_description!(
            "[day padding:none] [month repr:short] [year], [hour]:[minute]:[second] UTC"
        ))
    }

    /// "5 min ago", the way people glance at recency.
    pub fn relative_to(self, now: Self) -> String {
        let seconds = (now.0 - self.0).max(0) / 1000;
        match seconds {
            0..60 => "just now".to_owned(),
            60..3600 => format!("{} min ago", seconds / 60),
            3600..86400 => format!("{} h ago", seconds / 3600),
            86400..172800 => "yesterday".to_owned(),
            _ => format!("{} days ago", seconds / 86400),
        }
    }

    /// "in 5 min", for times still ahead such as the next retry; "now" once due.
    pub fn ahead_of(self, now: Self) -> String {
        let seconds = (self.0 - now.0).max(0) / 1000;
        match seconds {
            0 => "now".to_owned(),
            1..60 => format!("in {seconds} s"),
            60..3600 => format!("in {} min", seconds / 60),
            3600..86400 => format!("in {} h", seconds / 3600),
            _ => format!("in {} days", seconds / 86400),
        }
    }

    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration_ms(duration)))
    }

    pub fn minus(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration_ms(duration)))
    }

    /// How long from `self` until `later`; zero if `later` is not later.
    pub fn until(self, later: Self) -> Duration {
        Duration::from_millis(u64::try_from(later.0 - self.0).unwrap_or(0))
    }

    fn from_datetime(at: OffsetDateTime) -> Self {
        Self(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
    }

    fn format(self, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|at| at.format(format).ok())
            .unwrap_or_default()
    }
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally() {
        let at = Timestamp::from_unix_ms(1_795_791_900_000);
        assert_eq!(at.absolute(), "27 Nov 2026, 15:05 UTC");
        assert_eq!(at.rfc3339(), "2026-11-27T15:05:00.000Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-27T16:05:00+01:00"),
            Some(at)
        );
        let ago = |ms: i64| Timestamp::from_unix_ms(1_795_791_900_000 - ms).relative_to(at);
        assert_eq!(ago(5_000), "just now");
        assert_eq!(ago(300_000), "5 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 days ago");
    }
}
