use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor, SqlitePool};

use super::StoreError;
use crate::clock::Timestamp;
use crate::domain::{AttemptErrorCode, DeliveryStatus};
use crate::paging::Pager;

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

const COLUMNS: &str = "d.id, d.webhook_id, w.name AS webhook_name, d.event_id, e.event_type,
                       d.status, d.attempt_count, d.next_attempt_at, d.last_attempt_at,
                       d.last_status_code, d.created_at";
const FROM: &str = "FROM deliveries d JOIN events e ON e.id = d.event_id
                    JOIN webhooks w ON w.id = d.webhook_id";

/// Which deliveries a search asks for; every part left out matches all.
#[derive(Debug, Default, Clone)]
pub struct DeliverySearch {
    pub webhook_id: Option<i64>,
    pub delivery_id: Option<i64>,
    pub event_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    pub created_from: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
}

/// Where a page of results starts. Pages are read from an id, not skipped to by counting,
/// so the thousandth page costs what the first does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Newest,
    /// The page of older deliveries just below this id.
    OlderThan(i64),
    /// The page of newer deliveries just above this id.
    NewerThan(i64),
}

/// A page of deliveries, newest first, and whether there is more on either side.
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub newer: bool,
    pub older: bool,
}

/// A page of deliveries matching `search`, each with its attempts, in two queries.
pub async fn search(
    pool: &SqlitePool,
    search: &DeliverySearch,
    cursor: Cursor,
    size: i64,
) -> Result<DeliveryPage, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1"));
    push_search(&mut query, search);
    match cursor {
        Cursor::Newest => query.push(" ORDER BY d.id DESC"),
        Cursor::OlderThan(id) => query
            .push(" AND d.id < ")
            .push_bind(id)
            .push(" ORDER BY d.id DESC"),
        Cursor::NewerThan(id) => query
            .push(" AND d.id > ")
            .push_bind(id)
            .push(" ORDER BY d.id ASC"),
    };
    query.push(" LIMIT ").push_bind(size + 1);
    let mut deliveries: Vec<Delivery> = query.build_query_as().fetch_all(pool).await?;
    let more = deliveries.len() as i64 > size;
    deliveries.truncate(usize::try_from(size).unwrap_or(0));
    let (newer, older) = match cursor {
        Cursor::Newest => (false, more),
        Cursor::OlderThan(_) => (true, more),
        Cursor::NewerThan(_) => {
            deliveries.reverse();
            (more, true)
        }
    };
    attach_attempts(pool, &mut deliveries).await?;
    Ok(DeliveryPage {
        deliveries,
        newer,
        older,
    })
}

/// How many deliveries match, counted no further than `up_to` + 1: enough to say "more
/// than 10,000" without walking millions of rows. First one indexed step to the row past
/// `up_to`; only if there is none are the (at most `up_to`) matches counted.
pub async fn count_up_to(
    pool: &SqlitePool,
    search: &DeliverySearch,
    up_to: i64,
) -> Result<i64, StoreError> {
    let mut beyond =
        QueryBuilder::<Sqlite>::new(format!("SELECT d.id {} WHERE 1 = 1", counted_from(search)));
    push_search(&mut beyond, search);
    beyond
        .push(" ORDER BY d.id DESC LIMIT 1 OFFSET ")
        .push_bind(up_to);
    let more: Option<i64> = beyond.build_query_scalar().fetch_optional(pool).await?;
    match more {
        Some(_) => Ok(up_to + 1),
        None => count(pool, search).await,
    }
}

/// How many deliveries match, all of them counted.
pub async fn count(
    db: impl SqliteExecutor<'_>,
    search: &DeliverySearch,
) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(format!(
        "SELECT COUNT(*) {} WHERE 1 = 1",
        counted_from(search)
    ));
    push_search(&mut query, search);
    Ok(query.build_query_scalar().fetch_one(db).await?)
}

/// What a count reads: the deliveries alone (an index, often) unless the search is by
/// event type, which only the event knows.
fn counted_from(search: &DeliverySearch) -> &'static str {
    match search.event_type {
        Some(_) => "FROM deliveries d JOIN events e ON e.id = d.event_id",
        None => "FROM deliveries d",
    }
}

fn push_search(query: &mut QueryBuilder<'_, Sqlite>, search: &DeliverySearch) {
    if let Some(id) = search.webhook_id {
        query.push(" AND d.webhook_id = ").push_bind(id);
    }
    if let Some(id) = search.delivery_id {
        query.push(" AND d.id = ").push_bind(id);
    }
    if let Some(id) = search.event_id {
        query.push(" AND d.event_id = ").push_bind(id);
    }
    if let Some(status) = search.status {
        query.push(" AND d.status = ").push_bind(status);
    }
    if let Some(event_type) = &search.event_type {
        query
            .push(" AND e.event_type = ")
            .push_bind(event_type.clone());
    }
    if let Some(from) = search.created_from {
        query.push(" AND d.created_at >= ").push_bind(from);
    }
    if let Some(before) = search.created_before {
        query.push(" AND d.created_at < ").push_bind(before);
    }
}

/// A page of a webhook's deliveries, newest first, each with its attempts in order.
pub async fn list_for_webhook(
    pool: &SqlitePool,
    webhook_id: i64,
    page: Pager,
) -> Result<Vec<Delivery>, StoreError> {
    let mut deliveries: Vec<Delivery> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} {FROM} WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?"
    ))
    .bind(webhook_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    attach_attempts(pool, &mut deliveries).await?;
    Ok(deliveries)
}

/// Loads the attempts of these deliveries in one query, in order.
async fn attach_attempts(pool: &SqlitePool, deliveries: &mut [Delivery]) -> Result<(), StoreError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error_code, error_message
         FROM attempts WHERE delivery_id IN (",
    );
    let mut ids = query.separated(", ");
    for delivery in deliveries.iter() {
        ids.push_bind(delivery.id);
    }
    query.push(") ORDER BY id");
    let attempts: Vec<Attempt> = query.build_query_as().fetch_all(pool).await?;
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
        "SELECT {COLUMNS} {FROM} WHERE d.id = ? AND d.webhook_id = ?"
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
    pub response_headers: Option<String>,
    /// Absent on tries made before signatures were kept.
    pub signature: Option<String>,
}

/// Every try of a delivery, oldest first.
pub async fn attempts(
    db: impl SqliteExecutor<'_>,
    delivery_id: i64,
) -> Result<Vec<AttemptDetail>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT attempted_at, duration_ms, status_code, error_code, error_message, response_body,
                response_headers, signature
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
