//! Creating API tokens: shown once, stored as a hash. Shared by the console and the CLI.

use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError, api_tokens};
use crate::domain::AuditAction;
use crate::token::random_token;

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
    #[error("Give the token a name of 1 to {MAX_NAME_CHARS} characters.")]
    InvalidName,
    #[error("An active token with this name exists; choose another name.")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a token and returns it; this is the only time it exists in clear.
pub async fn create(db: &Db, name: &str, actor: &str) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(TokenError::InvalidName);
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token(TOKEN_BYTES));
    let visible: String = token.chars().take(VISIBLE_CHARS).collect();
    let mut tx = db.begin_write().await?;
    api_tokens::create(&mut tx, name, &token, &visible)
        .await
        .map_err(|error| match error {
            StoreError::TokenNameTaken => TokenError::NameTaken,
            other => other.into(),
        })?;
    NewEntry::new(
        actor,
        AuditAction::TokenCreated,
        "token",
        name,
        format!("{visible}…"),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(token)
}
