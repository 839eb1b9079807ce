//! API tokens: shown once, stored as a hash.

use super::{Actor, Audit};
use crate::clock::Timestamp;
use crate::db::{Db, StoreError, api_tokens};
use crate::domain::{AccountKey, AuditAction, Label, name_taken_message};
use crate::secrets::token::random_token;

/// Tokens carry 256 random bits.
const TOKEN_BYTES: usize = 32;
/// Tells a token's kind at a glance, and lets secret scanners recognise leaked ones.
const TOKEN_PREFIX: &str = "wc_";
/// Shown in lists so people can tell tokens apart: the prefix and a few characters.
const VISIBLE_CHARS: usize = 10;
/// Token names are labels.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidName(String),
    #[error("{}", name_taken_message("active token", typed, existing))]
    NameTaken { typed: String, existing: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a token and returns it; this is the only time it exists in clear. With an
/// `account` it reaches that account alone; without, every account (a staff token).
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    account: Option<&AccountKey>,
) -> Result<String, TokenError> {
    let name = Label::parse(name, MAX_NAME_CHARS, "Give the token a name.")
        .map_err(|error| TokenError::InvalidName(error.message.unwrap_or_default().into_owned()))?;
    let token = format!("{TOKEN_PREFIX}{}", random_token(TOKEN_BYTES));
    let visible: String = token.chars().take(VISIBLE_CHARS).collect();
    let now = db.now();
    let mut tx = db.begin_write().await?;
    api_tokens::create(&mut tx, &name, account, &token, &visible, now)
        .await
        .map_err(|error| match error {
            StoreError::TokenNameTaken { existing } => TokenError::NameTaken {
                typed: name.as_str().to_owned(),
                existing,
            },
            other => other.into(),
        })?;
    Audit {
        actor,
        action: AuditAction::TokenCreated,
        target_type: "token",
        target: name.as_str(),
        summary: match account {
            Some(account) => format!("{visible}…, account {account}"),
            None => format!("{visible}…"),
        },
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Requests with the token are refused from now on; returns its name.
pub async fn revoke(db: &Db, actor: &Actor, id: i64) -> Result<String, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let name = api_tokens::revoke(&mut tx, id, now).await?;
    Audit {
        actor,
        action: AuditAction::TokenRevoked,
        target_type: "token",
        target: &name,
        summary: "requests with it are refused from now on".into(),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(name)
}

/// Notes when a token was last used (not audited: it is no change anyone made).
pub async fn touch(db: &Db, id: i64, now: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    api_tokens::touch(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(())
}
