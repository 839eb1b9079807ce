use sqlx::SqliteConnection;

use super::{StoreError, now_ms};

/// How long an `Idempotency-Key` answers with the event it first created.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A parsed, valid event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    /// Unix milliseconds, UTC.
    pub event_time: i64,
    /// JSON text.
    pub current_context: String,
    /// JSON text.
    pub data: String,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub id: i64,
    /// Deliveries queued for it, one per matching active webhook.
    pub deliveries: i64,
    /// True when an earlier event with the same idempotency key answered.
    pub repeated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    UnknownEventType,
}

/// Stores an event and one pending delivery per active webhook that subscribes to its type,
/// inside the caller's transaction, so either both are on disk or neither.
pub async fn publish(
    conn: &mut SqliteConnection,
    event: &NewEvent,
) -> Result<Result<Published, Refused>, StoreError> {
    let now = now_ms();
    if let Some(key) = &event.idempotency_key {
        let earlier: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, created_at FROM events WHERE idempotency_key = ?")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
        match earlier {
            Some((id, created_at)) if created_at >= now - IDEMPOTENCY_WINDOW_MS => {
                let deliveries =
                    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event_id = ?")
                        .bind(id)
                        .fetch_one(&mut *conn)
                        .await?;
                return Ok(Ok(Published {
                    id,
                    deliveries,
                    repeated: true,
                }));
            }
            // Expired: the key is free for the new event.
            Some((id, _)) => {
                sqlx::query("UPDATE events SET idempotency_key = NULL WHERE id = ?")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {}
        }
    }
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM event_types WHERE key = ?")
        .bind(&event.event_type)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_none() {
        return Ok(Err(Refused::UnknownEventType));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (event_type, event_time, current_context, data, idempotency_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&event.event_type)
    .bind(event.event_time)
    .bind(&event.current_context)
    .bind(&event.data)
    .bind(&event.idempotency_key)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let fanned_out = sqlx::query(
        "INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at)
         SELECT ?, w.id, 'pending', ?, ? FROM webhooks w
         WHERE w.status = 'active'
           AND (w.all_events = 1 OR EXISTS (SELECT 1 FROM webhook_events e
                                             WHERE e.webhook_id = w.id AND e.event_type = ?))",
    )
    .bind(id)
    .bind(now)
    .bind(now)
    .bind(&event.event_type)
    .execute(conn)
    .await?;
    Ok(Ok(Published {
        id,
        deliveries: fanned_out.rows_affected() as i64,
        repeated: false,
    }))
}
