use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::{StoreError, now_ms};

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub created_at: i64,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

pub async fn count_for_webhook(pool: &SqlitePool, webhook_id: i64) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?")
            .bind(webhook_id)
            .fetch_one(pool)
            .await?,
    )
}

/// A page of a webhook's deliveries, newest first, each with its attempts in order.
pub async fn list_for_webhook(
    pool: &SqlitePool,
    webhook_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.event_id, e.event_type, d.status, d.attempt_count, d.next_attempt_at,
                d.last_attempt_at, d.last_status_code, d.created_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?",
    )
    .bind(webhook_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let mut deliveries = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    if deliveries.is_empty() {
        return Ok(deliveries);
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error_code, error_message
         FROM attempts WHERE delivery_id IN (",
    );
    let mut ids = query.separated(", ");
    for delivery in &deliveries {
        ids.push_bind(delivery.id);
    }
    query.push(") ORDER BY id");
    for row in query.build().fetch_all(pool).await? {
        let delivery_id: i64 = row.try_get("delivery_id")?;
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
            delivery.attempts.push(Attempt {
                attempted_at: row.try_get("attempted_at")?,
                duration_ms: row.try_get("duration_ms")?,
                status_code: row.try_get("status_code")?,
                error_code: row.try_get("error_code")?,
                error_message: row.try_get("error_message")?,
            });
        }
    }
    Ok(deliveries)
}

/// Queues a delivery of this webhook for another try now, with the same `webhook-id`.
pub async fn redeliver(
    conn: &mut SqliteConnection,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?
         WHERE id = ? AND webhook_id = ?",
    )
    .bind(now_ms())
    .bind(delivery_id)
    .bind(webhook_id)
    .execute(conn)
    .await?;
    match updated.rows_affected() {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub async fn find(
    pool: &SqlitePool,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<Delivery, StoreError> {
    let row = sqlx::query(
        "SELECT d.id, d.event_id, e.event_type, d.status, d.attempt_count, d.next_attempt_at,
                d.last_attempt_at, d.last_status_code, d.created_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id = ? AND d.webhook_id = ?",
    )
    .bind(delivery_id)
    .bind(webhook_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref()
        .map(decode)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

fn decode(row: &SqliteRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        status: row.try_get("status")?,
        attempt_count: row.try_get("attempt_count")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_attempt_at: row.try_get("last_attempt_at")?,
        last_status_code: row.try_get("last_status_code")?,
        created_at: row.try_get("created_at")?,
        attempts: Vec::new(),
    })
}
