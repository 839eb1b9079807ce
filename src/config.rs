use std::fmt;
use std::str::FromStr;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::db::DEFAULT_WAIT;
use crate::delivery::EngineSettings;
use crate::delivery::housekeeping::Upkeep;
use crate::delivery::retry::RetrySchedule;
use crate::delivery::target_guard::TargetGuard;
use crate::domain::MaxWebhooksPerAccount;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE_URL: &str = "sqlite://webhook-console.db";
/// A working day: sessions idle longer than this end.
const DEFAULT_SESSION_IDLE: &str = "8h";
/// A form or a 256 KiB event takes a fraction of this on any working connection.
const DEFAULT_REQUEST_BODY_TIMEOUT: &str = "10s";
/// Enough for a receiver that does real work before answering; a hung one is let go.
const DEFAULT_DELIVERY_TIMEOUT: &str = "15s";
/// Sends are async I/O: hundreds in flight cost little memory, and leave room beside
/// receivers that hang.
const DEFAULT_DELIVERY_CONCURRENCY: usize = 512;
const DEFAULT_DELIVERY_PER_WEBHOOK: usize = 8;
/// One host's share, however many webhooks point at it.
const DEFAULT_DELIVERY_PER_DESTINATION: usize = 128;
/// A month of history for the delivery log.
const DEFAULT_RETENTION: &str = "30d";
/// Long enough to ride out a long weekend's outage, short enough to stop a lost cause.
const DEFAULT_AUTO_DISABLE_AFTER: &str = "5d";

/// Webhook Console: create webhooks in a web console and deliver events to them.
#[derive(Debug, Parser)]
#[command(name = "webhook-console", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage API tokens for the event API.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Copy an SQLite installation into the PostgreSQL database given with --database-url.
    ///
    /// Stop the server first. Everything is copied in one transaction into an empty
    /// database; webhook secrets are sealed again with WEBHOOK_CONSOLE_SECRET_KEY (the key
    /// every node will use), and every table's row count is checked afterwards.
    MigrateTo {
        /// The SQLite database to copy.
        #[arg(long, default_value = DEFAULT_DATABASE_URL)]
        from: String,
    },
    /// Copy the SQLite database given with --database-url into a new file, while the server
    /// runs: a consistent snapshot (SQLite's `VACUUM INTO`), with its key file beside it.
    ///
    /// Restore by starting the server with `--database-url sqlite://FILE`. PostgreSQL is
    /// backed up with its own tools (pg_dump).
    Backup {
        /// The new file; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, alone, on standard output.
    Create {
        /// Which system uses it; shown in the console and the audit log.
        #[arg(long)]
        name: String,
        /// The one account it reaches (its key); without, every account (a staff token).
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// `admin` changes everything; `support` only reads.
        #[arg(long, value_parser = ["admin", "support"])]
        role: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address and port the console listens on.
    #[arg(long, env = "WEBHOOK_CONSOLE_LISTEN", default_value = DEFAULT_LISTEN, global = true)]
    pub listen: String,

    /// The database: sqlite://… (the file is created when missing) or postgres://… (the
    /// database must exist; several nodes may share it).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// A request waits at most this long for the database; then it gets 503 with
    /// Retry-After instead of hanging (e.g. 2s, 500ms).
    #[arg(long, env = "WEBHOOK_CONSOLE_DATABASE_WAIT", default_value_t = DEFAULT_WAIT.into(), global = true)]
    pub database_wait: humantime::Duration,

    /// The address people use to reach the console, e.g. https://hooks.example.com.
    /// With https, cookies are marked Secure and named with the `__Host-` prefix.
    #[arg(long, env = "WEBHOOK_CONSOLE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Sessions idle longer than this end (e.g. 30m, 8h).
    #[arg(long, env = "WEBHOOK_CONSOLE_SESSION_IDLE_TIMEOUT", default_value = DEFAULT_SESSION_IDLE)]
    pub session_idle_timeout: humantime::Duration,

    /// A request body still arriving after this long gets 408 and its connection is closed.
    #[arg(long, env = "WEBHOOK_CONSOLE_REQUEST_BODY_TIMEOUT", default_value = DEFAULT_REQUEST_BODY_TIMEOUT)]
    pub request_body_timeout: humantime::Duration,

    /// Sends in flight at once, over all webhooks.
    #[arg(long, env = "WEBHOOK_CONSOLE_DELIVERY_CONCURRENCY", default_value_t = DEFAULT_DELIVERY_CONCURRENCY, value_parser = clap::value_parser!(usize))]
    pub delivery_concurrency: usize,

    /// Sends in flight at once to one webhook, so a slow receiver cannot starve the others.
    #[arg(long, env = "WEBHOOK_CONSOLE_DELIVERY_PER_WEBHOOK", default_value_t = DEFAULT_DELIVERY_PER_WEBHOOK)]
    pub delivery_per_webhook: usize,

    /// Sends in flight at once to one destination (scheme, host and port), however many
    /// webhooks point at it.
    #[arg(long, env = "WEBHOOK_CONSOLE_DELIVERY_PER_DESTINATION", default_value_t = DEFAULT_DELIVERY_PER_DESTINATION)]
    pub delivery_per_destination: usize,

    /// Webhooks one account may have (accounts other than `default`, which has no cap).
    #[arg(long, env = "WEBHOOK_CONSOLE_MAX_WEBHOOKS_PER_ACCOUNT", default_value_t = MaxWebhooksPerAccount::DEFAULT, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_webhooks_per_account: u32,

    /// A delivery attempt without an answer after this long has failed (e.g. 15s).
    #[arg(long, env = "WEBHOOK_CONSOLE_DELIVERY_TIMEOUT", default_value = DEFAULT_DELIVERY_TIMEOUT)]
    pub delivery_timeout: humantime::Duration,

    /// Delays between tries of a failed delivery, e.g. 5s,5m,30m,2h,5h,10h,10h.
    #[arg(long, env = "WEBHOOK_CONSOLE_RETRY_SCHEDULE", default_value_t = RetrySchedule::default())]
    pub retry_schedule: RetrySchedule,

    /// Private ranges deliveries may go to after all, as CIDRs, comma-separated
    /// (e.g. 10.0.0.0/8,127.0.0.1/32). Every other non-public address is refused.
    #[arg(
        long,
        env = "WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS",
        value_delimiter = ','
    )]
    pub allow_private_targets: Vec<ipnet::IpNet>,

    /// Reverse proxies in front of the console, as CIDRs, comma-separated (e.g.
    /// 127.0.0.1/32): only from these is X-Forwarded-For read for the client's address.
    #[arg(long, env = "WEBHOOK_CONSOLE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Events, deliveries and attempts older than this are deleted (e.g. 30d).
    #[arg(long, env = "WEBHOOK_CONSOLE_RETENTION", default_value = DEFAULT_RETENTION)]
    pub retention: humantime::Duration,

    /// A webhook whose deliveries have all failed for this long is auto-disabled (e.g. 5d).
    #[arg(long, env = "WEBHOOK_CONSOLE_AUTO_DISABLE_AFTER", default_value = DEFAULT_AUTO_DISABLE_AFTER)]
    pub auto_disable_after: humantime::Duration,

    /// Keys cookies and secrets at rest; when unset, a key is generated into a file
    /// beside the database.
    #[arg(
        long,
        env = "WEBHOOK_CONSOLE_SECRET_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub secret_key: Option<Secret>,

    /// With the password, creates the first admin at start when there is no user.
    #[arg(long, env = "WEBHOOK_CONSOLE_ADMIN_EMAIL", hide = true)]
    pub admin_email: Option<String>,

    #[arg(
        long,
        env = "WEBHOOK_CONSOLE_ADMIN_PASSWORD",
        hide = true,
        hide_env_values = true
    )]
    pub admin_password: Option<Secret>,

    /// Where the time comes from: the system's; tests hand in a clock they move.
    #[arg(skip)]
    pub clock: Clock,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            database_wait: DEFAULT_WAIT.into(),
            public_url: None,
            session_idle_timeout: DEFAULT_SESSION_IDLE
                .parse()
                .expect("the default idle timeout parses"),
            request_body_timeout: DEFAULT_REQUEST_BODY_TIMEOUT
                .parse()
                .expect("the default body timeout parses"),
            delivery_concurrency: DEFAULT_DELIVERY_CONCURRENCY,
            delivery_per_webhook: DEFAULT_DELIVERY_PER_WEBHOOK,
            max_webhooks_per_account: MaxWebhooksPerAccount::DEFAULT,
            delivery_per_destination: DEFAULT_DELIVERY_PER_DESTINATION,
            delivery_timeout: DEFAULT_DELIVERY_TIMEOUT
                .parse()
                .expect("the default delivery timeout parses"),
            retry_schedule: RetrySchedule::default(),
            allow_private_targets: Vec::new(),
            trusted_proxies: Vec::new(),
            retention: DEFAULT_RETENTION
                .parse()
                .expect("the default retention parses"),
            auto_disable_after: DEFAULT_AUTO_DISABLE_AFTER
                .parse()
                .expect("the default auto-disable delay parses"),
            secret_key: None,
            admin_email: None,
            admin_password: None,
            clock: Clock::system(),
        }
    }
}

impl Settings {
    pub fn delivery(&self) -> EngineSettings {
        EngineSettings {
            concurrency: self.delivery_concurrency.max(1),
            per_webhook: self.delivery_per_webhook.max(1),
            per_destination: self.delivery_per_destination.max(1),
            timeout: *self.delivery_timeout,
            retry_schedule: self.retry_schedule.clone(),
            guard: TargetGuard::new(self.allow_private_targets.clone()),
            upkeep: Upkeep {
                retention: *self.retention,
                auto_disable_after: *self.auto_disable_after,
            },
        }
    }

    /// Served over https: cookies must not travel over plain http.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"))
    }
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
