use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor, SqlitePool};

use super::StoreError;
use crate::clock::Timestamp;
use crate::domain::{AttemptErrorCode, DeliveryStatus};
use crate::paging::Pager;

#[derive(Debug, Clone, FromRow)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i64>,
    pub created_at: Timestamp,
    #[sqlx(skip)]
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, FromRow)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempted_at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error_code: Option<AttemptErrorCode>,
    pub error_message: Option<String>,
}

const COLUMNS: &str = "d.id, d.event_id, e.event_type, d.status, d.attempt_count,
                       d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.created_at";

/// A webhook's deliveries, all or those with one status.
pub async fn count_for_webhook(
    db: impl SqliteExecutor<'_>,
    webhook_id: i64,
    status: Option<DeliveryStatus>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2)",
    )
    .bind(webhook_id)
    .bind(status)
    .fetch_one(db)
    .await?)
}

/// A page of a webhook's deliveries, newest first, each with its attempts in order.
pub async fn list_for_webhook(
    pool: &SqlitePool,
    webhook_id: i64,
    status: Option<DeliveryStatus>,
    page: Pager,
) -> Result<Vec<Delivery>, StoreError> {
    let mut deliveries: Vec<Delivery> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = ? AND (? IS NULL OR d.status = ?)
         ORDER BY d.id DESC LIMIT ? OFFSET ?"
    ))
    .bind(webhook_id)
    .bind(status)
    .bind(status)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
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
    let attempts: Vec<Attempt> = query.build_query_as().fetch_all(pool).await?;
    for attempt in attempts {
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == attempt.delivery_id) {
            delivery.attempts.push(attempt);
        }
    }
    Ok(deliveries)
}

/// Queues a delivery of this webhook for another try now, with the same `webhook-id` and a
/// fresh retry schedule.
pub async fn redeliver(
    conn: &mut SqliteConnection,
    webhook_id: i64,
    delivery_id: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?,
                schedule_start = attempt_count
         WHERE id = ? AND webhook_id = ?",
    )
    .bind(now)
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
    db: impl SqliteExecutor<'_>,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<Delivery, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id = ? AND d.webhook_id = ?"
    ))
    .bind(delivery_id)
    .bind(webhook_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// One try as the delivery page shows it, with the answer's excerpt.
#[derive(Debug, Clone, FromRow)]
pub struct AttemptDetail {
    pub attempted_at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error_code: Option<AttemptErrorCode>,
    pub error_message: Option<String>,
    pub response_body: Option<String>,
}

/// Every try of a delivery, oldest first.
pub async fn attempts(
    db: impl SqliteExecutor<'_>,
    delivery_id: i64,
) -> Result<Vec<AttemptDetail>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT attempted_at, duration_ms, status_code, error_code, error_message, response_body
         FROM attempts WHERE delivery_id = ? ORDER BY id",
    )
    .bind(delivery_id)
    .fetch_all(db)
    .await?)
}

/// The event a delivery carries, as published: (event_time, current_context, data).
pub async fn payload(
    db: impl SqliteExecutor<'_>,
    delivery_id: i64,
) -> Result<(Timestamp, String, String), StoreError> {
    sqlx::query_as(
        "SELECT e.event_time, e.current_context, e.data
         FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?",
    )
    .bind(delivery_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Queues every failed delivery of this webhook created since `since` for another try now,
/// each with a fresh retry schedule. Returns how many.
pub async fn recover_failed(
    conn: &mut SqliteConnection,
    webhook_id: i64,
    since: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let recovered = sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?,
                schedule_start = attempt_count
         WHERE webhook_id = ? AND status = 'failed' AND created_at >= ?",
    )
    .bind(now)
    .bind(webhook_id)
    .bind(since)
    .execute(conn)
    .await?;
    Ok(recovered.rows_affected())
}
