//! What the product can do: one function per use case, each one write transaction with its
//! audit entry. The console, the API and the command line parse input into domain types,
//! call one of these and render the outcome; none of them begins a write transaction.
//! Here is where the clock is read for a change: storage is handed `now`.

pub mod accounts;
pub mod deliveries;
pub mod event_types;
mod inbox;
pub mod operational;
pub mod sign_in;
pub mod tokens;
pub mod users;
mod webhook_changes;
pub mod webhooks;

pub use inbox::Inbox;

use std::fmt;

use crate::clock::Timestamp;
use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError};
use crate::domain::{AccountKey, AuditAction};

/// Who does something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user of the console, by email.
    User(String),
    /// A program calling the API, by its token's name.
    ApiToken(String),
    /// The server itself, or the command line run by its operator.
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(email) => f.write_str(email),
            Self::ApiToken(name) => write!(f, "token:{name}"),
            Self::System => f.write_str("system"),
        }
    }
}

/// What the audit log says about one change.
struct Audit<'a> {
    actor: &'a Actor,
    action: AuditAction,
    target_type: &'a str,
    target: &'a str,
    summary: String,
}

impl Audit<'_> {
    /// In the installation's own log (`default`): people, tokens, the catalog, sign-ins.
    async fn record(self, conn: &mut crate::db::WriteTx, now: Timestamp) -> Result<(), StoreError> {
        self.record_in(conn, now, &AccountKey::default_account())
            .await
    }

    /// In `account`'s log: a change to one of its webhooks or deliveries, or to it.
    async fn record_in(
        self,
        conn: &mut crate::db::WriteTx,
        now: Timestamp,
        account: &AccountKey,
    ) -> Result<(), StoreError> {
        let actor = self.actor.to_string();
        NewEntry::new(
            &actor,
            self.action,
            self.target_type,
            self.target,
            self.summary,
        )
        .record(conn, now, account)
        .await
    }
}

/// Writes one audit entry on its own: for events that change nothing else (a sign-in).
async fn record_alone(db: &Db, audit: Audit<'_>) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    audit.record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}
