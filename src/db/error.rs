//! What storage can fail with, as callers tell the cases apart.

use super::Outage;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such row")]
    NotFound,
    /// Names the webhook whose name is the same or looks the same.
    #[error("a webhook named “{existing}” already exists")]
    WebhookNameTaken { existing: String },
    #[error("a user with this email already exists")]
    EmailTaken,
    /// Names the active token whose name is the same or looks the same.
    #[error("an active token named “{existing}” already exists")]
    TokenNameTaken { existing: String },
    #[error("an event type with this key already exists")]
    EventTypeTaken,
    /// Names the group whose name looks like the one given, and is not the same.
    #[error("the group looks like the existing group “{existing}”")]
    GroupLooksAlike { existing: String },
    /// The catalog holds as many types (not archived) as it may.
    #[error("the event catalog is full")]
    CatalogFull,
    /// Refused: the webhook is switched off and gets nothing until it is enabled.
    #[error("the webhook is disabled")]
    WebhookDisabled,
    /// No account has this key.
    #[error("no account “{0}”")]
    UnknownAccount(String),
    /// The account has as many webhooks as it may.
    #[error("the account has {limit} webhooks, as many as it may")]
    AccountFull { limit: u32 },
    /// The account still has webhooks: they go first.
    #[error("the account still has webhooks")]
    AccountInUse,
    /// Refused, and rolled back, because no admin could sign in afterwards.
    #[error("the console needs at least one active admin")]
    NoActiveAdminLeft,
    #[error(transparent)]
    Secret(#[from] crate::secrets::secret_box::OpenError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("could not make the database files private")]
    Files(#[source] std::io::Error),
    #[error("could not apply database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Refused without trying: the database is known to be down.
    #[error(transparent)]
    Unavailable(Outage),
}
