use std::collections::HashMap;
use std::time::Duration;

use sqlx::{QueryBuilder, Sqlite};

use super::delivery_queue::Fresh;
use super::{Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::SearchTerm;

/// How long an `Idempotency-Key` answers with the event it first created.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A parsed, valid event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub event_time: Timestamp,
    /// JSON text.
    pub current_context: String,
    /// JSON text.
    pub data: String,
    /// The API token that published it.
    pub api_token_id: i64,
    pub idempotency: Option<Idempotency>,
    /// What a customer may quote to find it (see [`crate::domain::terms_of`]), computed
    /// on the request's thread; stored with the event on PostgreSQL, found again from the
    /// event by SQLite's indexer.
    pub search_terms: Vec<SearchTerm>,
}

/// An `Idempotency-Key`, which belongs to the token that sent it, and the fingerprint of
/// the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
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
    /// The type is archived: kept for earlier deliveries, published no more.
    ArchivedEventType,
    /// The token used this key within the window for a different request.
    IdempotencyConflict,
}

/// Rows per multi-row INSERT: 9 parameters each stays far below SQLite's 32,766 limit.
const ROWS_PER_INSERT: usize = 1000;

/// Stores a batch of events and one pending delivery per active webhook that subscribes to
/// each event's type, inside the caller's transaction: all of them are on disk or none.
/// The deliveries are claimed until `lease_until` for the caller's sender, except those of
/// webhooks that are Failing or paused: they wait, due, for a claim. A handful of statements serve the whole batch, whatever its size; only events that carry
/// an `Idempotency-Key` cost a lookup each.
pub async fn publish_batch(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Batch, StoreError> {
    let mut plan = sort_out(conn, events, now).await?;
    let (stored, deliveries) = insert_fresh(conn, events, &plan.fresh, now, lease_until).await?;
    for (&index, published) in plan.fresh.iter().zip(stored) {
        plan.outcomes[index] = Some(Ok(published));
    }
    for (index, first) in plan.repeats_in_batch {
        plan.outcomes[index] = if events[index].idempotency == events[first].idempotency {
            plan.outcomes[first].map(|first| first.map(Published::repeated))
        } else {
            Some(Err(Refused::IdempotencyConflict))
        };
    }
    let outcomes = plan
        .outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Err(Refused::UnknownEventType)))
        .collect();
    Ok(Batch {
        outcomes,
        deliveries,
    })
}

/// What a stored batch came to.
pub struct Batch {
    /// One per event, in order.
    pub outcomes: Vec<Result<Published, Refused>>,
    /// The deliveries created and claimed until the lease given.
    pub deliveries: Vec<Fresh>,
}

/// What becomes of each event of a batch before anything is written.
struct Plan {
    /// Decided already: refused, or answered by an earlier event with the same key.
    outcomes: Vec<Option<Result<Published, Refused>>>,
    /// To be stored, in batch order.
    fresh: Vec<usize>,
    /// (this, first): a later event of the batch with the key of an earlier one.
    repeats_in_batch: Vec<(usize, usize)>,
}

async fn sort_out(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    now: Timestamp,
) -> Result<Plan, StoreError> {
    // Each key, and whether it is archived.
    let catalog: HashMap<String, bool> = on_tx!(&mut *conn, |e| sqlx::query_as(
        "SELECT key, archived_at IS NOT NULL FROM event_types"
    )
    .fetch_all(e)
    .await?
    .into_iter()
    .collect());
    hold_idempotency_keys(conn, events).await?;
    let mut plan = Plan {
        outcomes: vec![None; events.len()],
        fresh: Vec::with_capacity(events.len()),
        repeats_in_batch: Vec::new(),
    };
    let mut first_with_key: HashMap<(i64, &str), usize> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        let refused = match catalog.get(&event.event_type) {
            Some(false) => None,
            Some(true) => Some(Refused::ArchivedEventType),
            None => Some(Refused::UnknownEventType),
        };
        if let Some(refused) = refused {
            plan.outcomes[index] = Some(Err(refused));
            continue;
        }
        if let Some(idempotency) = &event.idempotency {
            let scoped_key = (event.api_token_id, idempotency.key.as_str());
            if let Some(&first) = first_with_key.get(&scoped_key) {
                plan.repeats_in_batch.push((index, first));
                continue;
            }
            if let Some(earlier) = earlier_with_key(conn, event, idempotency, now).await? {
                plan.outcomes[index] = Some(earlier);
                continue;
            }
            first_with_key.insert(scoped_key, index);
        }
        plan.fresh.push(index);
    }
    Ok(plan)
}

/// On PostgreSQL, nodes storing batches side by side would both find an idempotency key
/// unused and both insert it: each batch first takes a lock per key it carries, in one
/// order, so the second waits for the first's commit and then finds its event. SQLite's one
/// writer does this already.
async fn hold_idempotency_keys(conn: &mut WriteTx, events: &[&NewEvent]) -> Result<(), StoreError> {
    let WriteTx::Postgres(tx) = conn else {
        return Ok(());
    };
    let mut keys: Vec<i64> = events
        .iter()
        .filter_map(|event| {
            let idempotency = event.idempotency.as_ref()?;
            let digest = super::sha256_hex(&format!("{}:{}", event.api_token_id, idempotency.key));
            i64::from_str_radix(&digest[..15], 16).ok()
        })
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    sqlx::query("SELECT pg_advisory_xact_lock(key) FROM unnest($1::bigint[]) AS key")
        .bind(keys)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ids for `count` new events, in order: on SQLite the one writer holds the lock, so the
/// ids after the highest are free and consecutive; on PostgreSQL they come from the
/// sequence, which other nodes draw from too.
async fn new_event_ids(conn: &mut WriteTx, count: usize) -> Result<Vec<i64>, StoreError> {
    Ok(match conn {
        WriteTx::Sqlite(tx) => {
            let last_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
                .fetch_one(&mut **tx)
                .await?;
            (last_id + 1..=last_id + count as i64).collect()
        }
        WriteTx::Postgres(tx) => {
            sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence('events', 'id'))
                 FROM generate_series(1, $1)",
            )
            .bind(count as i64)
            .fetch_all(&mut **tx)
            .await?
        }
    })
}

/// Inserts the fresh events and their deliveries; returns what each event became, in
/// order, and the new deliveries' ids.
async fn insert_fresh(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    fresh: &[usize],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<(Vec<Published>, Vec<Fresh>), StoreError> {
    if fresh.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let ids = new_event_ids(conn, fresh.len()).await?;
    insert_events(conn, events, fresh, &ids, now).await?;
    // SQLite indexes them beside ingest (see `index_quotes`); PostgreSQL's GIN index takes
    // them into its pending list, cheaply, in the same transaction.
    if let WriteTx::Postgres(_) = conn {
        let terms = fresh
            .iter()
            .zip(&ids)
            .map(|(&index, &id)| (id, events[index].search_terms.clone()))
            .collect();
        insert_search_terms(conn, terms).await?;
    }
    // Born claimed (due only when the lease lapses): the caller hands them to this
    // process's sender at once, and a process that dies first leaves them to the next. Those
    // of a Failing or paused webhook are born due instead, to wait for a probe or the pause's
    // end like the rest of its queue.
    let fan_out = |batch: &str| {
        format!(
            "INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at,
                                     leased)
             SELECT e.id, w.id, 'pending', CASE WHEN {sendable} THEN $2 ELSE $1 END, $1,
                    {sendable}
             FROM events e JOIN webhooks w
               ON w.status = 'active'
              AND (w.all_events OR EXISTS (SELECT 1 FROM webhook_events x
                                           WHERE x.webhook_id = w.id
                                             AND x.event_type = e.event_type))
             WHERE {batch}
             RETURNING id, event_id, webhook_id, leased",
            sendable = SENDABLE,
        )
    };
    let created: Vec<(i64, i64, i64, bool)> = match conn {
        WriteTx::Sqlite(tx) => {
            sqlx::query_as(&fan_out("e.id BETWEEN $3 AND $4"))
                .bind(now)
                .bind(lease_until)
                .bind(ids[0])
                .bind(ids[ids.len() - 1])
                .fetch_all(&mut **tx)
                .await?
        }
        WriteTx::Postgres(tx) => loop {
            // A webhook deleted by another node after this statement read it fails the
            // statement on its foreign key; run again, the statement no longer sees it.
            sqlx::query("SAVEPOINT fan_out").execute(&mut **tx).await?;
            let created = sqlx::query_as(&fan_out("e.id = ANY($3)"))
                .bind(now)
                .bind(lease_until)
                .bind(&ids)
                .fetch_all(&mut **tx)
                .await;
            match created {
                Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                    sqlx::query("ROLLBACK TO SAVEPOINT fan_out")
                        .execute(&mut **tx)
                        .await?;
                }
                created => break created?,
            }
        },
    };
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for (_, event_id, _, _) in &created {
        *counts.entry(*event_id).or_default() += 1;
    }
    let published = ids
        .into_iter()
        .map(|id| Published {
            id,
            deliveries: counts.get(&id).copied().unwrap_or(0),
            repeated: false,
        })
        .collect();
    let fresh = created
        .into_iter()
        .filter(|(_, _, _, leased)| *leased)
        .map(|(id, _, webhook_id, _)| Fresh {
            id,
            webhook_id,
            test: false,
        })
        .collect();
    Ok((published, fresh))
}

/// Whether a webhook `w` takes deliveries now (at `$1`): neither Failing nor paused.
const SENDABLE: &str =
    "(w.failing_since IS NULL AND (w.paused_until IS NULL OR w.paused_until <= $1))";

/// The fresh events under their new ids: multi-row statements on SQLite, one array per
/// column on PostgreSQL (one statement, and one plan, whatever the batch's size).
async fn insert_events(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    fresh: &[usize],
    ids: &[i64],
    now: Timestamp,
) -> Result<(), StoreError> {
    match conn {
        WriteTx::Sqlite(tx) => {
            for (chunk_number, chunk) in fresh.chunks(ROWS_PER_INSERT).enumerate() {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO events (id, event_type, event_time, current_context, data,
                                         api_token_id, idempotency_key,
                                         idempotency_fingerprint, created_at) ",
                );
                insert.push_values(chunk.iter().enumerate(), |mut row, (offset, &index)| {
                    let event = events[index];
                    row.push_bind(ids[chunk_number * ROWS_PER_INSERT + offset])
                        .push_bind(&event.event_type)
                        .push_bind(event.event_time)
                        .push_bind(&event.current_context)
                        .push_bind(&event.data)
                        .push_bind(event.api_token_id)
                        .push_bind(event.idempotency.as_ref().map(|i| &i.key))
                        .push_bind(event.idempotency.as_ref().map(|i| &i.fingerprint))
                        .push_bind(now);
                });
                insert.build().execute(&mut **tx).await?;
            }
        }
        WriteTx::Postgres(tx) => {
            let fresh: Vec<&NewEvent> = fresh.iter().map(|&index| events[index]).collect();
            let texts = |value: fn(&NewEvent) -> Option<&str>| -> Vec<Option<&str>> {
                fresh.iter().map(|event| value(event)).collect()
            };
            sqlx::query(
                "INSERT INTO events (id, event_type, event_time, current_context, data,
                                     api_token_id, idempotency_key, idempotency_fingerprint,
                                     created_at)
                 SELECT id, event_type, event_time, current_context, data, api_token_id,
                        idempotency_key, idempotency_fingerprint, $9
                 FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::bigint[], $7::text[], $8::text[])
                      AS e (id, event_type, event_time, current_context, data, api_token_id,
                            idempotency_key, idempotency_fingerprint)",
            )
            .bind(ids)
            .bind(texts(|e| Some(e.event_type.as_str())))
            .bind(
                fresh
                    .iter()
                    .map(|e| e.event_time.unix_ms())
                    .collect::<Vec<_>>(),
            )
            .bind(texts(|e| Some(e.current_context.as_str())))
            .bind(texts(|e| Some(e.data.as_str())))
            .bind(fresh.iter().map(|e| e.api_token_id).collect::<Vec<_>>())
            .bind(texts(|e| e.idempotency.as_ref().map(|i| i.key.as_str())))
            .bind(texts(|e| {
                e.idempotency.as_ref().map(|i| i.fingerprint.as_str())
            }))
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Events per multi-row INSERT of terms on SQLite: 2 parameters each.
const TERMS_PER_INSERT: usize = 10_000;

/// Each event's search terms, as (event id, its terms), in one statement per batch: on SQLite
/// one FTS5 row per event (its terms as hex tokens), on PostgreSQL one array per event.
pub(super) async fn insert_search_terms(
    conn: &mut WriteTx,
    rows: Vec<(i64, Vec<SearchTerm>)>,
) -> Result<(), StoreError> {
    let rows: Vec<(i64, Vec<SearchTerm>)> = rows
        .into_iter()
        .filter(|(_, terms)| !terms.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        WriteTx::Sqlite(tx) => {
            for chunk in rows.chunks(TERMS_PER_INSERT) {
                let mut insert =
                    QueryBuilder::<Sqlite>::new("INSERT INTO event_search (rowid, terms) ");
                insert.push_values(chunk, |mut row, (id, terms)| {
                    let tokens: Vec<String> = terms.iter().map(|term| term.token()).collect();
                    row.push_bind(id).push_bind(tokens.join(" "));
                });
                insert.build().execute(&mut **tx).await?;
            }
        }
        WriteTx::Postgres(tx) => {
            let (ids, terms): (Vec<i64>, Vec<String>) = rows
                .into_iter()
                .map(|(id, terms)| {
                    let list: Vec<String> = terms.iter().map(|t| t.get().to_string()).collect();
                    (id, format!("{{{}}}", list.join(",")))
                })
                .unzip();
            sqlx::query(
                "INSERT INTO event_search (event_id, terms)
                 SELECT id, terms::bigint[] FROM UNNEST($1::bigint[], $2::text[]) AS t (id, terms)",
            )
            .bind(ids)
            .bind(terms)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Events not indexed yet that a search reads one by one, at most.
const UNINDEXED_READ_AT_MOST: i64 = 20_000;

/// Events SQLite's indexer takes at once: one FTS5 segment each time.
pub const INDEX_BATCH: i64 = 5_000;

/// Indexes the search terms of up to `limit` events stored since the last pass (SQLite; on
/// PostgreSQL they are indexed with the event). The events are read and their terms
/// computed outside the write, which then only inserts them and moves the mark. Returns how
/// many events it took.
pub async fn index_quotes(db: &super::Db, limit: i64) -> Result<usize, StoreError> {
    let super::Reader::Sqlite(reader) = db.reader() else {
        return Ok(0);
    };
    let last: i64 = sqlx::query_scalar("SELECT last_event_id FROM search_progress")
        .fetch_one(reader)
        .await?;
    let page: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, data, current_context, idempotency_key FROM events
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(last)
    .bind(limit)
    .fetch_all(reader)
    .await?;
    let Some(&(newest, ..)) = page.last() else {
        return Ok(0);
    };
    let rows: Vec<(i64, Vec<SearchTerm>)> = page
        .iter()
        .map(|(id, data, context, key)| (*id, terms_in(data, context, key.as_deref())))
        .collect();
    let mut tx = db.begin_write().await?;
    // Another pass (a second process on the file) may have taken them meanwhile.
    let moved = on_tx!(&mut tx, |e| sqlx::query(
        "UPDATE search_progress SET last_event_id = $2 WHERE last_event_id = $1"
    )
    .bind(last)
    .bind(newest)
    .execute(e)
    .await?
    .rows_affected());
    if moved == 0 {
        return Ok(0);
    }
    insert_search_terms(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(page.len())
}

/// An event's terms from its stored JSON text.
pub(super) fn terms_in(data: &str, context: &str, key: Option<&str>) -> Vec<SearchTerm> {
    let json = |text: &str| serde_json::from_str(text).unwrap_or_default();
    crate::domain::terms_of(&json(data), &json(context), key)
}

/// The newest events (at most `limit`) that hold `term`, newest first.
pub async fn quoting<'a>(
    db: impl Into<Source<'a>>,
    term: SearchTerm,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(match db.into() {
        Source::Sqlite(place) => quoting_sqlite(&mut *place.hold().await?, term, limit).await?,
        Source::Postgres(place) => quoting_postgres(&mut *place.hold().await?, term, limit).await?,
    })
}

/// The indexed events, and those the indexer has not reached yet (a moment's worth, read
/// and checked one by one), so an event is found as soon as it is acknowledged.
async fn quoting_sqlite(
    e: &mut sqlx::SqliteConnection,
    term: SearchTerm,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let last: i64 = sqlx::query_scalar("SELECT last_event_id FROM search_progress")
        .fetch_one(&mut *e)
        .await?;
    // Normally a moment's worth; while a large backlog is indexed (after an upgrade) only
    // its newest part is read, and the rest is found once indexed.
    let tail: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, data, current_context, idempotency_key FROM events
         WHERE id > $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(last)
    .bind(UNINDEXED_READ_AT_MOST)
    .fetch_all(&mut *e)
    .await?;
    let mut found: Vec<i64> = tail
        .iter()
        .filter(|(_, data, context, key)| terms_in(data, context, key.as_deref()).contains(&term))
        .map(|(id, ..)| *id)
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let indexed: Vec<i64> = sqlx::query_scalar(
        "SELECT rowid FROM event_search WHERE event_search MATCH $1 ORDER BY rowid DESC LIMIT $2",
    )
    .bind(format!("\"{}\"", term.token()))
    .bind(limit - found.len() as i64)
    .fetch_all(&mut *e)
    .await?;
    // A pass that committed between the two reads leaves an event in both.
    found.extend(
        indexed
            .into_iter()
            .filter(|id| !found.contains(id))
            .collect::<Vec<_>>(),
    );
    Ok(found)
}

async fn quoting_postgres(
    e: &mut sqlx::PgConnection,
    term: SearchTerm,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    // Planned alone, "newest first with this term" walks the primary key backwards and tests
    // every row: fast for a value in every event, seconds for a rare one. So: first the
    // newest events' matches (a bounded range), and only if they are too few all matches
    // through the GIN index, fenced off (MATERIALIZED) so the plan cannot walk instead.
    let newest: Vec<i64> = sqlx::query_scalar(
        "SELECT event_id FROM event_search
         WHERE terms @> ARRAY[$1::bigint]
           AND event_id > (SELECT COALESCE(MAX(event_id), 0) FROM event_search) - $3
         ORDER BY event_id DESC LIMIT $2",
    )
    .bind(term.get())
    .bind(limit)
    .bind(NEWEST_EVENTS_FIRST)
    .fetch_all(&mut *e)
    .await?;
    if newest.len() as i64 >= limit {
        return Ok(newest);
    }
    sqlx::query_scalar(
        "WITH matching AS MATERIALIZED (
           SELECT event_id FROM event_search WHERE terms @> ARRAY[$1::bigint])
         SELECT event_id FROM matching ORDER BY event_id DESC LIMIT $2",
    )
    .bind(term.get())
    .bind(limit)
    .fetch_all(&mut *e)
    .await
}

/// How many of the newest events PostgreSQL looks through first for a quoted value.
const NEWEST_EVENTS_FIRST: i64 = 100_000;

/// What a customer could have quoted of these events: (id, data, context, idempotency key).
pub async fn quotable<'a>(
    db: impl Into<Source<'a>>,
    ids: &[i64],
) -> Result<Vec<(i64, String, String, Option<String>)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_read!(db, |e, _, Backend| {
        let mut query = QueryBuilder::<Backend>::new(
            "SELECT id, data, current_context, idempotency_key FROM events WHERE id IN (",
        );
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(")");
        Ok(query.build_query_as().fetch_all(e).await?)
    })
}

impl Published {
    fn repeated(self) -> Self {
        Self {
            repeated: true,
            ..self
        }
    }
}

/// What an idempotency key the token used within the window answers: its event, or a
/// conflict when the key came with a different request. An expired key is released, so
/// the new event can take it.
async fn earlier_with_key(
    conn: &mut WriteTx,
    event: &NewEvent,
    idempotency: &Idempotency,
    now: Timestamp,
) -> Result<Option<Result<Published, Refused>>, StoreError> {
    on_tx!(conn, |e| {
        let earlier: Option<(i64, Timestamp, Option<String>)> = sqlx::query_as(
            "SELECT id, created_at, idempotency_fingerprint FROM events
         WHERE api_token_id = $1 AND idempotency_key = $2",
        )
        .bind(event.api_token_id)
        .bind(&idempotency.key)
        .fetch_optional(&mut *e)
        .await?;
        match earlier {
            Some((id, created_at, fingerprint)) if created_at >= now.minus(IDEMPOTENCY_WINDOW) => {
                if fingerprint.as_deref() != Some(idempotency.fingerprint.as_str()) {
                    return Ok(Some(Err(Refused::IdempotencyConflict)));
                }
                let deliveries =
                    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event_id = $1")
                        .bind(id)
                        .fetch_one(&mut *e)
                        .await?;
                Ok(Some(Ok(Published {
                    id,
                    deliveries,
                    repeated: true,
                })))
            }
            Some((id, ..)) => {
                sqlx::query("UPDATE events SET idempotency_key = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *e)
                    .await?;
                Ok(None)
            }
            None => Ok(None),
        }
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
            "INSERT INTO events (event_type, event_time, current_context, data, created_at)
             VALUES ('webhook.test', $1, '{}', $2, $1) RETURNING id",
        )
        .bind(now)
        .bind(data)
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
