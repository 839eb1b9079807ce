//! Creating API tokens: shown once, stored as a hash. Shared by the console and the CLI.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError, api_tokens};
use crate::domain::{AuditAction, Label};
use crate::token::random_token;

/// Tokens carry 256 random bits.
const TOKEN_BYTES: usize = 32;
/// Tells a token's kind at a glance, and lets secret scanners recognise leaked ones.
const TOKEN_PREFIX: &str = "wc_";
/// Shown in lists so people can tell tokens apart: the prefix and a few characters.
const VISIBLE_CHARS: usize = 10;
/// How long a verified token is trusted without asking the database again. Revoking in this
/// process forgets it at once; another process sharing the database notices within this time.
const VERIFIED_FOR: Duration = Duration::from_secs(5);
/// "Last used" is kept to the minute: writing it on every call would put a write in front
/// of every publish.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;
/// Token names are labels.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidName(String),
    #[error("An active token with this name exists; choose another name.")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a token and returns it; this is the only time it exists in clear.
pub async fn create(db: &Db, name: &str, actor: &str) -> Result<String, TokenError> {
    let name = Label::parse(name, MAX_NAME_CHARS, "Give the token a name.")
        .map_err(|error| TokenError::InvalidName(error.message.unwrap_or_default().into_owned()))?;
    let token = format!("{TOKEN_PREFIX}{}", random_token(TOKEN_BYTES));
    let visible: String = token.chars().take(VISIBLE_CHARS).collect();
    let mut tx = db.begin_write().await?;
    api_tokens::create(&mut tx, &name, &token, &visible)
        .await
        .map_err(|error| match error {
            StoreError::TokenNameTaken => TokenError::NameTaken,
            other => other.into(),
        })?;
    NewEntry::new(
        actor,
        AuditAction::TokenCreated,
        "token",
        name.as_str(),
        format!("{visible}…"),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(token)
}

/// Recently verified tokens, by SHA-256, so that a busy publisher's requests are not each a
/// database read; and when each token's "last used" was last written.
#[derive(Debug, Default)]
pub struct TokenCache {
    verified: Mutex<HashMap<String, (i64, String, Instant)>>,
    last_used_written: Mutex<HashMap<i64, i64>>,
}

impl TokenCache {
    /// The (id, name) of a token verified within [`VERIFIED_FOR`].
    pub fn get(&self, digest: &str) -> Option<(i64, String)> {
        let verified = self.verified.lock().ok()?;
        let (id, name, at) = verified.get(digest)?;
        (at.elapsed() < VERIFIED_FOR).then(|| (*id, name.clone()))
    }

    pub fn put(&self, digest: String, id: i64, name: String) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.insert(digest, (id, name, Instant::now()));
        }
    }

    /// After a revocation: every token is checked against the database again.
    pub fn forget_all(&self) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.clear();
        }
    }

    /// True when the token's "last used" is due to be written, and notes that it is.
    pub fn last_used_due(&self, id: i64, now: i64) -> bool {
        let Ok(mut written) = self.last_used_written.lock() else {
            return false;
        };
        let recent = written
            .get(&id)
            .is_some_and(|last| now.saturating_sub(*last) < LAST_USED_RESOLUTION_MS);
        if !recent {
            written.insert(id, now);
        }
        !recent
    }
}
