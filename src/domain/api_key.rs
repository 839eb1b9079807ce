use std::fmt;

use validator::{ValidateLength, ValidationError};

use super::invalid;

/// Printable, no whitespace: the rule of [`ApiKey::parse`] as a JSON Schema pattern.
pub const API_KEY_PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f]*$";

/// Shorter secrets are masked completely: their last characters would give too much away.
const MIN_CHARS_TO_SHOW_TAIL: usize = 12;

/// A credential the receiver expects in the `X-API-Key` header. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Room for long bearer tokens and JWTs while keeping every delivery's headers small.
    pub const MAX_CHARS: u64 = 512;

    /// An empty field means "no API key".
    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.chars().any(char::is_whitespace) {
            return Err(invalid(
                "whitespace",
                "Remove spaces and line breaks from the API key.",
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid("not_printable", "Use printable characters only."));
        }
        if !raw.validate_length(None, Some(Self::MAX_CHARS), None) {
            return Err(invalid(
                "too_long",
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        Ok(Some(Self(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        masked(&self.0)
    }
}

/// A secret as an admin may see it: its last four characters, when it is long enough that
/// they give little away.
pub fn masked(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_CHARS_TO_SHOW_TAIL {
        return "••••••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_field_means_no_key() {
        assert_eq!(ApiKey::parse("").unwrap(), None);
    }

    #[test]
    fn whitespace_and_over_long_keys_are_refused() {
        assert!(ApiKey::parse("abc def").is_err());
        assert!(ApiKey::parse(" abc").is_err());
        assert!(ApiKey::parse("abc\n").is_err());
        assert!(ApiKey::parse(&"k".repeat(512)).is_ok());
        assert!(ApiKey::parse(&"k".repeat(513)).is_err());
    }

    #[test]
    fn the_key_is_masked_and_never_debug_printed() {
        let key = ApiKey::parse("sk_live_0123456789abcd").unwrap().unwrap();
        assert_eq!(key.masked(), "••••abcd");
        assert!(!format!("{key:?}").contains("abcd"));
        let short = ApiKey::parse("abcd1234").unwrap().unwrap();
        assert!(!short.masked().contains("1234"));
    }
}
