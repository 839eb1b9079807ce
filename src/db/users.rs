use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::{StoreError, now_ms};
use crate::domain::{Email, Role};

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, role, disabled, created_at";

pub async fn count(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?)
}

/// Counted inside the caller's transaction, so two first admins cannot both be created.
pub async fn count_in(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await?)
}

pub async fn create(
    conn: &mut SqliteConnection,
    email: &Email,
    role: Role,
    password_hash: &str,
) -> Result<i64, StoreError> {
    let now = now_ms();
    sqlx::query_scalar(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(email.as_str())
    .bind(role.as_db())
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

pub async fn find(pool: &SqlitePool, id: i64) -> Result<User, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref()
        .map(decode)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// The user and their password hash, for checking a sign-in.
pub async fn find_by_email(
    pool: &SqlitePool,
    email: &Email,
) -> Result<Option<(User, String)>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE email = ?"
    ))
    .bind(email.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|row| Ok::<_, sqlx::Error>((decode(&row)?, row.try_get("password_hash")?)))
        .transpose()?)
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<User>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users ORDER BY email"))
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

pub async fn set_role(conn: &mut SqliteConnection, id: i64, role: Role) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role.as_db())
        .bind(now_ms())
        .bind(id)
        .execute(conn)
        .await?;
    found(updated.rows_affected())
}

pub async fn set_disabled(
    conn: &mut SqliteConnection,
    id: i64,
    disabled: bool,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?")
        .bind(disabled)
        .bind(now_ms())
        .bind(id)
        .execute(conn)
        .await?;
    found(updated.rows_affected())
}

pub async fn set_password_hash(
    conn: &mut SqliteConnection,
    id: i64,
    password_hash: &str,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
        .bind(password_hash)
        .bind(now_ms())
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
pub async fn count_active_admins(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(conn)
            .await?,
    )
}

fn decode(row: &SqliteRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::from_db(&role).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "role".into(),
            source: format!("unexpected role {role:?}").into(),
        })?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}
