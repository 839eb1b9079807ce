//! Finding deliveries: by webhook, event, status, time, and what their events quote.

use sqlx::{Database, QueryBuilder};

use super::{COLUMNS, Delivery, FROM, attach_attempts};
use crate::clock::Timestamp;
use crate::db::{Bind, Reader, Source, StoreError};
use crate::domain::{AccountKey, DeliveryStatus, Matched, Quote};

/// Which deliveries a search asks for; every part left out matches all.
#[derive(Debug, Default, Clone)]
pub struct DeliverySearch {
    /// This account's deliveries alone; none: every account's.
    pub account: Option<AccountKey>,
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
        Some(term) => crate::db::events::quoting(db, term, QUOTED_EVENTS_AT_MOST).await?,
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
    let json = |text: &str| serde_json::from_str(text).unwrap_or_default();
    let mut matched: std::collections::HashMap<i64, Vec<Matched>> = deliveries
        .iter()
        .map(|delivery| (delivery.id, Vec::new()))
        .collect();
    // One event at a time: a page of large events is never held at once.
    crate::db::events::each_quotable(db, &event_ids, |event_id, data, context, key| {
        let (data, context) = (json(data), json(context));
        for delivery in deliveries.iter().filter(|d| d.event_id == event_id) {
            let found = quote.matches(delivery.id, event_id, &data, &context, key);
            matched.insert(delivery.id, found);
        }
    })
    .await?;
    Ok(matched)
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
    if let Some(account) = &search.account {
        query
            .push(" AND d.webhook_id IN (SELECT id FROM webhooks WHERE account = ")
            .push_bind(account.to_string())
            .push(")");
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
    if crate::db::matches_nothing(query, &[&search.event_type]) {
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
