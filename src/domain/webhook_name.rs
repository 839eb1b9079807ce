use validator::ValidationError;

use super::Label;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookName(Label);

impl WebhookName {
    /// Long enough to say what a webhook is for, short enough to fit a table cell.
    pub const MAX_CHARS: usize = 100;

    /// The rule of [`super::NAME_PATTERN`] with the length limit.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Label::parse(raw, Self::MAX_CHARS, "Enter a webhook name.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The form lists sort and search on: "Orders" and "orders" are one.
    pub fn folded(&self) -> String {
        self.0.folded()
    }

    /// The form uniqueness is checked on: no two webhooks have names that look alike.
    pub fn look_alike_key(&self) -> String {
        self.0.look_alike_key()
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
