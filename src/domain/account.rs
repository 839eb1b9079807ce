//! Accounts (SPEC §8): each customer of the host application has its own webhooks, events
//! and deliveries. The host names each by a key it chooses; `default` always exists and
//! holds everything of an installation that never makes another.

use std::fmt;

use validator::ValidationError;

use super::invalid;

/// An account's key, as the host chose it: `acme`, `eu.globex-2`. Read back from storage
/// as stored: only parsed keys are ever written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct AccountKey(String);

impl AccountKey {
    pub const MAX_CHARS: usize = 64;
    /// The same rule as a JSON Schema pattern, for the API's document.
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9._-]{0,63}$";
    const DEFAULT: &'static str = "default";

    /// `^[a-z0-9][a-z0-9._-]{0,63}$`
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid(
                "account_key_format",
                format!(
                    "“{raw}” is not an account key: use 1 to {} lower-case letters, digits, \
                     dots, dashes or underscores, starting with a letter or digit, like acme.",
                    Self::MAX_CHARS
                ),
            ))
        }
    }

    /// The account every installation has, and the one a request that names none means.
    pub fn default_account() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many webhooks an account other than `default` may have (`--max-webhooks-per-account`):
/// one customer cannot fill the installation. `default`, the installation's own, has no cap,
/// so an installation that never makes another account works as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxWebhooksPerAccount(pub u32);

impl Default for MaxWebhooksPerAccount {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

impl MaxWebhooksPerAccount {
    pub const DEFAULT: u32 = 100;

    /// Whether an account that has `webhooks` may make one more.
    pub fn allows_another(self, account: &AccountKey, webhooks: i64) -> bool {
        account.is_default() || webhooks < i64::from(self.0)
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::AccountKey;

    #[test]
    fn keys_are_what_a_host_would_choose_and_nothing_else() {
        for good in ["acme", "0", "eu.globex-2", "a_b", &"a".repeat(64)] {
            assert!(AccountKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "-acme",
            ".acme",
            "ac me",
            "acme/1",
            "ácme",
            &"a".repeat(65),
        ] {
            assert!(AccountKey::parse(bad).is_err(), "{bad}");
        }
        assert!(AccountKey::default_account().is_default());
    }
}
