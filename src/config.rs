use std::fmt;
use std::str::FromStr;

use clap::Parser;

/// Webhook Console: create webhooks in a web console and deliver events to them.
#[derive(Debug, Clone, Parser)]
#[command(name = "webhook-console", version, about)]
pub struct Settings {
    /// Address and port the console listens on.
    #[arg(long, env = "WEBHOOK_CONSOLE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// SQLite database; the file is created when missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://webhook-console.db"
    )]
    pub database_url: String,

    /// Keys session cookies; when unset, a key is generated into a file beside the database.
    #[arg(
        long,
        env = "WEBHOOK_CONSOLE_SECRET_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub secret_key: Option<Secret>,
}

/// A configured secret that never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
