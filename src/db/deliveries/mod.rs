mod search;

pub use search::{
    AnyOf, Cursor, DeliveryPage, DeliverySearch, QUOTED_EVENTS_AT_MOST, any_of, count, count_up_to,
    search, where_matched,
};

use sqlx::{FromRow, QueryBuilder};

use super::{IdList, Reader, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::paging::Pager;
use crate::domain::{AttemptErrorCode, DeliveryStatus, DeliveryWait, WaitFacts};

#[derive(Debug, Clone, FromRow)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub webhook_name: String,
    pub event_id: i64,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i64>,
    pub created_at: Timestamp,
    #[sqlx(flatten)]
    pub wait_facts: WaitFacts,
    #[sqlx(skip)]
    pub attempts: Vec<Attempt>,
}

impl Delivery {
    /// Why it has not gone out yet, while it is pending.
    pub fn waiting(&self, max_attempts: usize, now: Timestamp) -> Option<DeliveryWait> {
        DeliveryWait::of(
            self.status == DeliveryStatus::Pending,
            self.attempt_count,
            self.next_attempt_at,
            &self.wait_facts,
            max_attempts,
            now,
        )
    }
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

const COLUMNS: &str = "d.id, d.webhook_id, w.name AS webhook_name, d.event_id, e.event_type,
                       d.status, d.attempt_count, d.next_attempt_at, d.last_attempt_at,
                       d.last_status_code, d.created_at, d.leased,
                       w.status AS webhook_status, w.failing_since AS webhook_failing_since,
                       w.next_probe_at AS webhook_next_probe_at,
                       w.paused_until AS webhook_paused_until,
                       w.max_per_second AS webhook_max_per_second";
const FROM: &str = "FROM deliveries d JOIN events e ON e.id = d.event_id
                    JOIN webhooks w ON w.id = d.webhook_id";

/// A page of a webhook's deliveries, newest first, each with its attempts in order.
pub async fn list_for_webhook(
    db: Reader<'_>,
    webhook_id: i64,
    page: Pager,
) -> Result<Vec<Delivery>, StoreError> {
    let mut deliveries: Vec<Delivery> = on_pool!(db, |e| sqlx::query_as(&format!(
        "SELECT {COLUMNS} {FROM} WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(webhook_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(e)
    .await?);
    attach_attempts(db, &mut deliveries).await?;
    Ok(deliveries)
}

/// Loads the attempts of these deliveries in one query, in order.
async fn attach_attempts(db: Reader<'_>, deliveries: &mut [Delivery]) -> Result<(), StoreError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id).collect();
    let attempts: Vec<Attempt> = on_pool!(db, |e, _, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "SELECT delivery_id, attempted_at, duration_ms, status_code, error_code,
                    error_message
             FROM attempts WHERE delivery_id",
        );
        query.push_in(&ids).push(" ORDER BY id");
        query.build_query_as().fetch_all(e).await?
    });
    for attempt in attempts {
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == attempt.delivery_id) {
            delivery.attempts.push(attempt);
        }
    }
    Ok(())
}

/// Queues a delivery of this webhook for another try now, with the same `webhook-id` and a
/// fresh retry schedule.
pub async fn redeliver(
    tx: &mut WriteTx,
    webhook_id: i64,
    delivery_id: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    // Under way (claimed, its lease live): the request waits for that send to be recorded,
    // so one delivery never has two sends at once. Otherwise: due now, a fresh schedule.
    let updated = on_tx!(tx, |e| sqlx::query(
        "UPDATE deliveries SET
           status = 'pending',
           redeliver_requested_at = CASE WHEN leased AND next_attempt_at > $1 THEN $1 END,
           next_attempt_at = CASE WHEN leased AND next_attempt_at > $1
                                  THEN next_attempt_at ELSE $1 END,
           schedule_start = CASE WHEN leased AND next_attempt_at > $1
                                 THEN schedule_start ELSE attempt_count END,
           leased = leased AND next_attempt_at > $1
         WHERE id = $2 AND webhook_id = $3",
    )
    .bind(now)
    .bind(delivery_id)
    .bind(webhook_id)
    .execute(e)
    .await?
    .rows_affected());
    match updated {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub async fn find<'a>(
    db: impl Into<Source<'a>>,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<Delivery, StoreError> {
    on_read!(db, |e| sqlx::query_as(&format!(
        "SELECT {COLUMNS} {FROM} WHERE d.id = $1 AND d.webhook_id = $2"
    ))
    .bind(delivery_id)
    .bind(webhook_id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
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
    pub response_headers: Option<String>,
    /// Absent on tries made before signatures were kept.
    pub signature: Option<String>,
}

/// Every try of a delivery, oldest first.
pub async fn attempts<'a>(
    db: impl Into<Source<'a>>,
    delivery_id: i64,
) -> Result<Vec<AttemptDetail>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(
        "SELECT attempted_at, duration_ms, status_code, error_code, error_message, response_body,
                response_headers, signature
         FROM attempts WHERE delivery_id = $1 ORDER BY id",
    )
    .bind(delivery_id)
    .fetch_all(e)
    .await?))
}

/// The event a delivery carries, as published: (event_time, current_context, data).
pub async fn payload<'a>(
    db: impl Into<Source<'a>>,
    delivery_id: i64,
) -> Result<(Timestamp, String, String), StoreError> {
    on_read!(db, |e| sqlx::query_as(
        "SELECT e.event_time, e.current_context, e.data
         FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = $1",
    )
    .bind(delivery_id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

/// Queues every failed delivery of this webhook created since `since` for another try now,
/// each with a fresh retry schedule. Returns how many.
pub async fn recover_failed(
    tx: &mut WriteTx,
    webhook_id: i64,
    since: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let recovered = on_tx!(tx, |e| sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1,
                schedule_start = attempt_count
         WHERE webhook_id = $2 AND status = 'failed' AND created_at >= $3",
    )
    .bind(now)
    .bind(webhook_id)
    .bind(since)
    .execute(e)
    .await?
    .rows_affected());
    Ok(recovered)
}

/// The webhook's newest delivery whose last try failed: where a Failing webhook's page
/// sends support to read what the receiver answered. Read newest first through the
/// webhook's index, so a long history costs nothing while failures are recent.
pub async fn newest_failed_try<'a>(
    db: impl Into<Source<'a>>,
    webhook_id: i64,
) -> Result<Option<i64>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT id FROM deliveries
         WHERE webhook_id = $1 AND attempt_count > 0
           AND (last_status_code IS NULL OR last_status_code < 200 OR last_status_code > 299)
         ORDER BY id DESC LIMIT 1",
    )
    .bind(webhook_id)
    .fetch_optional(e)
    .await?))
}
