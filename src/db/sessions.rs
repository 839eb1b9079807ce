//! actix-session's server-side store, in the database (shared by every node): signing out deletes the row, so a copied
//! cookie is worthless afterwards; disabling a user deletes all of theirs.

use std::collections::HashMap;

use super::{Db, StoreError, WriteTx};
use crate::secrets::token::random_token;
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;

/// The session entry that names the signed-in user; copied into its own column so all
/// sessions of a user can be found.
pub const USER_ID: &str = "user_id";
/// Session keys carry 256 bits of randomness.
const SESSION_KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct DbSessionStore {
    /// Also the store's clock: the session middleware calls the store on its own.
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Stores a new session, or (`existing`) the new state of one that still exists. A
    /// session deleted meanwhile (signed out, password reset, user disabled) stays deleted:
    /// a request that loaded it before cannot write it back when it finishes.
    async fn write(
        &self,
        key: &SessionKey,
        state: &HashMap<String, String>,
        ttl: &Duration,
        existing: bool,
    ) -> Result<(), anyhow::Error> {
        let state_text = serde_json::to_string(state)?;
        // Seen like any other write: a full disk or a lost database is named on the page.
        self.write_state(key, state, state_text, ttl, existing)
            .await
            .map_err(|error| {
                self.db.saw(&error);
                error.into()
            })
    }

    async fn write_state(
        &self,
        key: &SessionKey,
        state: &HashMap<String, String>,
        state_text: String,
        ttl: &Duration,
        existing: bool,
    ) -> Result<(), StoreError> {
        let user_id: Option<i64> = state.get(USER_ID).and_then(|id| id.parse().ok());
        let now = self.db.now();
        let state = state_text;
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, |e| {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *e)
                .await?;
            let id = super::sha256_hex(key.as_ref());
            let expires_at = now.unix_ms() + ttl.whole_milliseconds() as i64;
            if existing {
                sqlx::query(
                    "UPDATE sessions SET user_id = $1, state = $2, expires_at = $3
                     WHERE id = $4 AND expires_at >= $5",
                )
                .bind(user_id)
                .bind(state)
                .bind(expires_at)
                .bind(id)
                .bind(now)
                .execute(e)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO sessions (user_id, state, expires_at, id) VALUES ($1, $2, $3, $4)",
                )
                .bind(user_id)
                .bind(state)
                .bind(expires_at)
                .bind(id)
                .execute(e)
                .await?;
            }
        });
        tx.commit().await?;
        Ok(())
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let state: Option<String> = on_pool!(self.db.reader(), |e| {
            sqlx::query_scalar("SELECT state FROM sessions WHERE id = $1 AND expires_at >= $2")
                .bind(super::sha256_hex(key.as_ref()))
                .bind(self.db.now())
                .fetch_optional(e)
                .await
        })
        .map_err(|e| {
            let e = StoreError::from(e);
            self.db.saw(&e);
            LoadError::Other(e.into())
        })?;
        state
            .map(|state| serde_json::from_str(&state))
            .transpose()
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let key = SessionKey::try_from(random_token(SESSION_KEY_BYTES))
            .map_err(|e| SaveError::Other(e.into()))?;
        self.write(&key, &state, ttl, false)
            .await
            .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.write(&key, &state, ttl, true)
            .await
            .map_err(UpdateError::Other)?;
        Ok(key)
    }

    /// Unused by the console, whose sessions are extended only when the guard notes
    /// activity (a state change, written by `update`); here for the store's contract.
    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let expires_at = self.db.now().unix_ms() + ttl.whole_milliseconds() as i64;
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, |e| sqlx::query(
            "UPDATE sessions SET expires_at = $1 WHERE id = $2"
        )
        .bind(expires_at)
        .bind(super::sha256_hex(key.as_ref()))
        .execute(e)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, |e| sqlx::query(
            "DELETE FROM sessions WHERE id = $1"
        )
        .bind(super::sha256_hex(key.as_ref()))
        .execute(e)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(())
    }
}

/// Signs a user out everywhere.
pub async fn delete_for_user(tx: &mut WriteTx, user_id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |e| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}
