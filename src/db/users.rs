use sqlx::{FromRow, SqliteConnection, SqliteExecutor};

use super::StoreError;
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
pub async fn count(db: impl SqliteExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await?)
}

pub async fn create(
    conn: &mut SqliteConnection,
    email: &Email,
    role: Role,
    password_hash: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(email.as_str())
    .bind(role)
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EmailTaken,
        _ => StoreError::Database(error),
    })
}

pub async fn find(db: impl SqliteExecutor<'_>, id: i64) -> Result<User, StoreError> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn find_by_email(
    db: impl SqliteExecutor<'_>,
    email: &Email,
) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE email = ?"
    ))
    .bind(email.as_str())
    .fetch_optional(db)
    .await?)
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<User>, StoreError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY email"))
            .fetch_all(db)
            .await?,
    )
}

pub async fn set_role(
    conn: &mut SqliteConnection,
    id: i64,
    role: Role,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    found(updated.rows_affected())
}

pub async fn set_disabled(
    conn: &mut SqliteConnection,
    id: i64,
    disabled: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?")
        .bind(disabled)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    found(updated.rows_affected())
}

pub async fn set_password_hash(
    conn: &mut SqliteConnection,
    id: i64,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    found(updated.rows_affected())
}

fn found(rows_affected: u64) -> Result<(), StoreError> {
    match rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Admins who can still sign in: the console must always keep one.
pub async fn count_active_admins(db: impl SqliteExecutor<'_>) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(db)
            .await?,
    )
}
