use std::num::NonZeroU32;

use validator::ValidationError;

use super::invalid;

/// A cap on deliveries sent to one webhook per second, for receivers that cannot take a
/// burst. Parsed from the form's text (empty: no cap) or the API's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPerSecond(NonZeroU32);

impl MaxPerSecond {
    /// Beyond this a cap holds nothing back that the send slots do not already.
    pub const MAX: u32 = 10_000;

    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let message = || {
            invalid(
                "max_per_second",
                format!(
                    "Enter a whole number from 1 to {}, or leave it empty for no limit.",
                    Self::MAX
                ),
            )
        };
        let value: u32 = raw.parse().map_err(|_| message())?;
        if value > Self::MAX {
            return Err(message());
        }
        NonZeroU32::new(value)
            .map(|value| Some(Self(value)))
            .ok_or_else(message)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_is_a_whole_number_from_one_to_ten_thousand_or_nothing() {
        assert_eq!(MaxPerSecond::parse(" ").unwrap(), None);
        assert_eq!(MaxPerSecond::parse("25").unwrap().unwrap().get(), 25);
        for wrong in ["0", "-1", "2.5", "10001", "fast"] {
            assert!(MaxPerSecond::parse(wrong).is_err(), "{wrong}");
        }
    }
}
