//! When a failed delivery is tried again: a schedule of delays with jitter, stretched by a
//! receiver's `Retry-After` within reason.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Delays after the first try, one per retry: `5s,5m,30m,2h,5h,10h,10h` by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// Spreads retries of many deliveries that failed together (a receiver that was down), so
/// they do not all return at once: each delay is moved by up to this share either way.
const JITTER: f64 = 0.2;

impl RetrySchedule {
    /// The delay before the next try after `attempts` tries, or `None` when the schedule is
    /// spent and the delivery has failed. `jitter` is in [-1, 1]. A `Retry-After` is honoured
    /// within [scheduled delay, 2 × scheduled delay]: a receiver may ask for patience, but not
    /// to be forgotten.
    pub fn next_delay(
        &self,
        attempts: i64,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
        let scheduled = *self.0.get(index)?;
        if let Some(asked) = retry_after {
            return Some(asked.clamp(scheduled, scheduled * 2));
        }
        Some(scheduled.mul_f64(1.0 + JITTER * jitter.clamp(-1.0, 1.0)))
    }

    /// Tries in all: the first and one per delay.
    pub fn max_attempts(&self) -> usize {
        self.0.len() + 1
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        "5s,5m,30m,2h,5h,10h,10h"
            .parse()
            .expect("the default schedule parses")
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(|delay| {
                humantime::parse_duration(delay.trim())
                    .map_err(|error| format!("{delay:?} is not a delay like 5s or 30m: {error}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delays: Vec<String> = self
            .0
            .iter()
            .map(|delay| humantime::format_duration(*delay).to_string())
            .collect();
        f.write_str(&delays.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_followed_with_jitter_and_then_spent() {
        let schedule: RetrySchedule = "5s,5m".parse().unwrap();
        assert_eq!(
            schedule.next_delay(1, None, 0.0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            schedule.next_delay(1, None, 1.0),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            schedule.next_delay(2, None, -1.0),
            Some(Duration::from_secs(240))
        );
        assert_eq!(schedule.next_delay(3, None, 0.0), None);
        assert_eq!(schedule.max_attempts(), 3);
    }

    #[test]
    fn retry_after_is_honoured_within_reason() {
        let schedule: RetrySchedule = "10s".parse().unwrap();
        let asked = |s| schedule.next_delay(1, Some(Duration::from_secs(s)), 0.0);
        assert_eq!(asked(1), Some(Duration::from_secs(10)));
        assert_eq!(asked(15), Some(Duration::from_secs(15)));
        assert_eq!(asked(3600), Some(Duration::from_secs(20)));
    }

    #[test]
    fn a_schedule_that_is_not_delays_is_refused() {
        assert!("5s,soon".parse::<RetrySchedule>().is_err());
    }
}
