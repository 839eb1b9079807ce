use sqlx::FromRow;

use super::{Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{Email, Role};

#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A user and their password hash, for checking a sign-in.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

const COLUMNS: &str = "id, email, role, disabled, created_at";

/// Inside a write transaction, so that two first admins cannot both be created.
pub async fn count<'a>(db: impl Into<Source<'a>>) -> Result<i64, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(e)
        .await?))
}

pub async fn create(
    tx: &mut WriteTx,
    email: &Email,
    role: Role,
    password_hash: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    on_tx!(tx, |e| sqlx::query_scalar(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(email.as_str())
    .bind(role)
    .bind(password_hash)
    .bind(now)
    .fetch_one(e)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EmailTaken,
        _ => StoreError::Database(error),
    }))
}

pub async fn find<'a>(db: impl Into<Source<'a>>, id: i64) -> Result<User, StoreError> {
    on_read!(db, |e| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

pub async fn find_by_email<'a>(
    db: impl Into<Source<'a>>,
    email: &Email,
) -> Result<Option<Credentials>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE email = $1"
    ))
    .bind(email.as_str())
    .fetch_optional(e)
    .await?))
}

pub async fn list<'a>(db: impl Into<Source<'a>>) -> Result<Vec<User>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY email"
    ))
    .fetch_all(e)
    .await?))
}

pub async fn set_role(
    tx: &mut WriteTx,
    id: i64,
    role: Role,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = on_tx!(tx, |e| sqlx::query(
        "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(role)
    .bind(now)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected());
    found(updated)
}

pub async fn set_disabled(
    tx: &mut WriteTx,
    id: i64,
    disabled: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = on_tx!(tx, |e| sqlx::query(
        "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(disabled)
    .bind(now)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected());
    found(updated)
}

pub async fn set_password_hash(
    tx: &mut WriteTx,
    id: i64,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = on_tx!(tx, |e| sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(password_hash)
    .bind(now)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected());
    found(updated)
}

fn found(rows_affected: u64) -> Result<(), StoreError> {
    match rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Admins who can still sign in: the console must always keep one.
pub async fn count_active_admins<'a>(db: impl Into<Source<'a>>) -> Result<i64, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled"
    )
    .fetch_one(e)
    .await?))
}
