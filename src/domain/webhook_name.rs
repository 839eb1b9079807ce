use validator::{ValidateLength, ValidationError};

use super::invalid;

/// At least one visible character and no control characters, as a JSON Schema pattern.
pub const NAME_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookName(String);

impl WebhookName {
    /// Long enough to say what a webhook is for, short enough to fit a table cell.
    pub const MAX_CHARS: u64 = 100;

    /// The same rule as [`NAME_PATTERN`] with the length limit.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(invalid("required", "Enter a webhook name."));
        }
        // Counted before trimming, as the form's maxlength and the API's schema count.
        if !raw.validate_length(None, Some(Self::MAX_CHARS), None) {
            return Err(invalid(
                "too_long",
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid(
                "control_characters",
                "Use letters, digits, spaces and punctuation only.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on, so "Orders" and "orders" cannot both exist.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(
            WebhookName::parse("  CRM sync ").unwrap().as_str(),
            "CRM sync"
        );
    }

    #[test]
    fn blank_and_over_long_names_are_refused() {
        assert!(WebhookName::parse("   ").is_err());
        assert!(WebhookName::parse(&"é".repeat(100)).is_ok());
        assert!(WebhookName::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn folding_ignores_case_beyond_ascii() {
        let upper = WebhookName::parse("ÜBER Orders").unwrap();
        let lower = WebhookName::parse("über orders").unwrap();
        assert_eq!(upper.folded(), lower.folded());
    }
}
