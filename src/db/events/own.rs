//! The events the console publishes itself, beside the API's: a test event to one webhook,
//! and the operational events.

use super::NewEvent;
use super::ingest::insert_fresh;
use crate::clock::Timestamp;
use crate::db::{StoreError, WriteTx};
use crate::domain::queue::Fresh;

/// Stores events the console publishes itself, with their deliveries, inside the caller's
/// transaction. Returns the deliveries, claimed until `lease_until` for the caller's sender.
pub async fn publish_own(
    conn: &mut WriteTx,
    events: &[NewEvent],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Fresh>, StoreError> {
    let events: Vec<&NewEvent> = events.iter().collect();
    let all: Vec<usize> = (0..events.len()).collect();
    let (_, deliveries) = insert_fresh(conn, &events, &all, now, lease_until).await?;
    Ok(deliveries)
}

/// The active webhooks subscribed by name to each of these types: (type, webhook id).
pub async fn subscribers(
    conn: &mut WriteTx,
    types: &[&str],
) -> Result<Vec<(String, i64)>, StoreError> {
    on_tx!(conn, |e, _, DB| {
        let mut query = sqlx::QueryBuilder::<DB>::new(
            "SELECT x.event_type, x.webhook_id FROM webhook_events x
             JOIN webhooks w ON w.id = x.webhook_id AND w.status = 'active'
             WHERE x.event_type IN (",
        );
        let mut each = query.separated(", ");
        for event_type in types {
            each.push_bind(*event_type);
        }
        query.push(")");
        Ok(query.build_query_as().fetch_all(e).await?)
    })
}

/// Stores a `webhook.test` event with one delivery, to this webhook only, claimed until
/// `lease_until` for the caller's sender (even while the webhook is Failing: an admin's test
/// may serve as its probe). Returns the event's and the delivery's ids.
pub async fn insert_test_event(
    tx: &mut WriteTx,
    webhook_id: i64,
    data: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<(i64, i64), StoreError> {
    on_tx!(tx, |e| {
        let event_id: i64 = sqlx::query_scalar(
            "INSERT INTO events (event_type, event_time, current_context, data, created_at,
                                 account)
             VALUES ('webhook.test', $1, '{}', $2, $1,
                     (SELECT account FROM webhooks WHERE id = $3)) RETURNING id",
        )
        .bind(now)
        .bind(data)
        .bind(webhook_id)
        .fetch_one(&mut *e)
        .await?;
        let delivery_id = sqlx::query_scalar(
            "INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at,
                                     leased)
             VALUES ($1, $2, 'pending', $3, $4, true) RETURNING id",
        )
        .bind(event_id)
        .bind(webhook_id)
        .bind(lease_until)
        .bind(now)
        .fetch_one(e)
        .await?;
        Ok((event_id, delivery_id))
    })
}
