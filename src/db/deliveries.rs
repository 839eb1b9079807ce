use sqlx::{Database, FromRow, QueryBuilder};

use super::{Bind, IdList, Reader, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::paging::Pager;
use crate::domain::{AttemptErrorCode, DeliveryStatus, Matched, Quote};

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
    /// What a quoted text matched: deliveries with one of these ids or of one of these
    /// events. Empty lists match nothing.
    pub any_of: Option<AnyOf>,
}

#[derive(Debug, Default, Clone)]
pub struct AnyOf {
    pub delivery_ids: Vec<i64>,
    pub event_ids: Vec<i64>,
}

/// Quoted text that matches more events than this finds the newest of them.
pub const QUOTED_EVENTS_AT_MOST: i64 = 1000;

/// What `quote` can match: the delivery and event it may name, and the newest events that
/// hold it as a value or an idempotency key.
pub async fn any_of(db: Reader<'_>, quote: &Quote) -> Result<AnyOf, StoreError> {
    let mut event_ids = match quote.term {
        Some(term) => super::events::quoting(db, term, QUOTED_EVENTS_AT_MOST).await?,
        None => Vec::new(),
    };
    event_ids.extend(quote.event_id);
    Ok(AnyOf {
        delivery_ids: quote.delivery_id.into_iter().collect(),
        event_ids,
    })
}

/// Where `quote` matched each of these deliveries, by delivery id.
pub async fn where_matched(
    db: Reader<'_>,
    quote: &Quote,
    deliveries: &[Delivery],
) -> Result<std::collections::HashMap<i64, Vec<Matched>>, StoreError> {
    let event_ids: Vec<i64> = deliveries.iter().map(|d| d.event_id).collect();
    let events: std::collections::HashMap<i64, (String, String, Option<String>)> =
        super::events::quotable(db, &event_ids)
            .await?
            .into_iter()
            .map(|(id, data, context, key)| (id, (data, context, key)))
            .collect();
    let json = |text: &str| serde_json::from_str(text).unwrap_or_default();
    Ok(deliveries
        .iter()
        .map(|delivery| {
            let matched = match events.get(&delivery.event_id) {
                Some((data, context, key)) => quote.matches(
                    delivery.id,
                    delivery.event_id,
                    &json(data),
                    &json(context),
                    key.as_deref(),
                ),
                None => Vec::new(),
            };
            (delivery.id, matched)
        })
        .collect())
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
    db: Reader<'_>,
    search: &DeliverySearch,
    cursor: Cursor,
    size: i64,
) -> Result<DeliveryPage, StoreError> {
    let mut deliveries: Vec<Delivery> = on_pool!(db, |e| {
        let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1"));
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
        query.build_query_as().fetch_all(e).await?
    });
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
    attach_attempts(db, &mut deliveries).await?;
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
    db: Reader<'_>,
    search: &DeliverySearch,
    up_to: i64,
) -> Result<i64, StoreError> {
    let more: Option<i64> = on_pool!(db, |e| {
        let mut beyond =
            QueryBuilder::new(format!("SELECT d.id {} WHERE 1 = 1", counted_from(search)));
        push_search(&mut beyond, search);
        beyond
            .push(" ORDER BY d.id DESC LIMIT 1 OFFSET ")
            .push_bind(up_to);
        beyond.build_query_scalar().fetch_optional(e).await?
    });
    match more {
        Some(_) => Ok(up_to + 1),
        None => count(db, search).await,
    }
}

/// How many deliveries match, all of them counted.
pub async fn count<'a>(
    db: impl Into<Source<'a>>,
    search: &DeliverySearch,
) -> Result<i64, StoreError> {
    on_read!(db, |e| {
        let mut query = QueryBuilder::new(format!(
            "SELECT COUNT(*) {} WHERE 1 = 1",
            counted_from(search)
        ));
        push_search(&mut query, search);
        Ok(query.build_query_scalar().fetch_one(e).await?)
    })
}

/// What a count reads: the deliveries alone (an index, often) unless the search is by
/// event type, which only the event knows.
fn counted_from(search: &DeliverySearch) -> &'static str {
    match search.event_type {
        Some(_) => "FROM deliveries d JOIN events e ON e.id = d.event_id",
        None => "FROM deliveries d",
    }
}

fn push_search<'q, DB: Database>(query: &mut QueryBuilder<'q, DB>, search: &DeliverySearch)
where
    i64: Bind<'q, DB>,
    String: Bind<'q, DB>,
    DeliveryStatus: Bind<'q, DB>,
    Timestamp: Bind<'q, DB>,
{
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
    if super::matches_nothing(query, &[&search.event_type]) {
        return;
    }
    if let Some(event_type) = &search.event_type {
        query
            .push(" AND e.event_type = ")
            .push_bind(event_type.clone());
    }
    if let Some(any_of) = &search.any_of {
        // Each side of the OR is an indexed lookup (the primary key, deliveries_by_event),
        // so the plan unions them instead of scanning every delivery.
        // Id 0 is no row's: it keeps each list valid SQL when it is otherwise empty.
        query.push(" AND (d.id IN (");
        let mut ids = query.separated(", ");
        ids.push_bind(0_i64);
        for id in &any_of.delivery_ids {
            ids.push_bind(*id);
        }
        query.push(") OR d.event_id IN (");
        let mut ids = query.separated(", ");
        ids.push_bind(0_i64);
        for id in &any_of.event_ids {
            ids.push_bind(*id);
        }
        query.push("))");
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
