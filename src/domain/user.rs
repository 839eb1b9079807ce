use std::fmt;

use validator::{ValidateEmail, ValidationError};

use super::invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Role {
    /// Changes webhooks, users and tokens.
    Admin,
    /// Reads everything but secrets; changes nothing.
    Support,
}

impl Role {
    pub const ALL: [Self; 2] = [Self::Admin, Self::Support];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|role| role.key() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| invalid("unknown_role", "Choose Admin or Support."))
    }

    /// The stable snake_case name: in storage, URLs and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Support => "support",
        }
    }

    pub fn from_key(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.key() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Admin",
            Self::Support => "Support",
        }
    }

    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

/// An email address in lower case: the account's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(invalid("required", "Enter an email address."));
        }
        // Invisible characters would make a second account that looks like the first.
        let hidden = email
            .chars()
            .any(|c| c.is_control() || super::is_format_character(c));
        if hidden || !email.validate_email() {
            return Err(invalid(
                "email",
                "Enter an email address like name@example.com.",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password someone chose. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// NIST SP 800-63B: length matters more than composition rules.
    pub const MIN_CHARS: usize = 12;
    /// Argon2 hashes any length, but unbounded input is a denial-of-service lever.
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(invalid(
                "too_short",
                format!("Use at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(invalid(
                "too_long",
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("not an email").is_err());
        assert!(Email::parse("").is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_and_stay_secret() {
        assert!(Password::parse("short").is_err());
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
