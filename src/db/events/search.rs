//! The search index of event payloads: "order 7731" finds the events that quote it. Events
//! may be a quarter of a MiB each: the indexer and searches read them as a stream, one at a
//! time, and keep only what they need of each (its terms, whether it matches).

use futures_util::TryStreamExt;
use sqlx::{QueryBuilder, Sqlite};

use crate::db::{Db, Reader, Source, StoreError, WriteTx};
use crate::domain::SearchTerm;

/// Events per multi-row INSERT of terms on SQLite: 2 parameters each.
const TERMS_PER_INSERT: usize = 10_000;

/// Each event's search terms, as (event id, its terms), in one statement per batch: on SQLite
/// one FTS5 row per event (its terms as hex tokens), on PostgreSQL one array per event.
pub(in crate::db) async fn insert_search_terms(
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

/// Events SQLite's indexer takes at once, one FTS5 segment each time: few enough that its
/// write holds the one writer for a few milliseconds. Passes of 5,000 held it long enough
/// to double publish p99 flat out (26–36 ms against 18–22 ms; 12–14 ms with no indexer).
pub const INDEX_BATCH: i64 = 500;
/// Bytes of events one pass reads at most, so a batch of large events is indexed in
/// several passes instead of held at once: the pass's terms stay small either way.
const INDEX_BYTES_AT_MOST: usize = 8 * 1024 * 1024;

/// Indexes the search terms of up to `limit` events stored since the last pass (SQLite; on
/// PostgreSQL they are indexed with the event), and fewer when they are large. The pass is
/// sized from the events' lengths first (SQLite reads those without their text), then read
/// in one query, so the reader is held only while SQLite reads; the terms are computed
/// after, outside the write, which then only inserts them and moves the mark. Returns how
/// many events it took: fewer than `limit` only when it reached the newest.
pub async fn index_quotes(db: &Db, limit: i64) -> Result<usize, StoreError> {
    let Reader::Sqlite(reader) = db.reader() else {
        return Ok(0);
    };
    let last: i64 = sqlx::query_scalar("SELECT last_event_id FROM search_progress")
        .fetch_one(reader)
        .await?;
    let sizes: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, octet_length(data) + octet_length(current_context) FROM events
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(last)
    .bind(limit)
    .fetch_all(reader)
    .await?;
    let (mut newest, mut bytes, mut count) = (None, 0usize, 0usize);
    for (id, size) in &sizes {
        let size = usize::try_from(*size).unwrap_or(0);
        // One event larger than the bound is still taken, alone.
        if count > 0 && bytes + size > INDEX_BYTES_AT_MOST {
            break;
        }
        (newest, bytes, count) = (Some(*id), bytes + size, count + 1);
    }
    let Some(newest) = newest else {
        return Ok(0);
    };
    let events: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, data, current_context, idempotency_key FROM events
         WHERE id > $1 AND id <= $2 ORDER BY id",
    )
    .bind(last)
    .bind(newest)
    .fetch_all(reader)
    .await?;
    let rows: Vec<(i64, Vec<SearchTerm>)> = events
        .into_iter()
        .map(|(id, data, context, key)| (id, terms_in(&data, &context, key.as_deref())))
        .collect();
    // A pass cut short by size is not the last: the caller goes on at once.
    let taken = match count < sizes.len() {
        true => usize::try_from(limit).unwrap_or(usize::MAX),
        false => count,
    };
    // Relaxed: a pass lost to a power cut takes its mark with it, and is done again.
    let mut tx = db.begin_write_relaxed().await?;
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
    Ok(taken)
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
    let wanted = usize::try_from(limit).unwrap_or(0);
    let mut found: Vec<i64> = Vec::new();
    let mut tail = sqlx::query_as::<_, (i64, String, String, Option<String>)>(
        "SELECT id, data, current_context, idempotency_key FROM events
         WHERE id > $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(last)
    .bind(UNINDEXED_READ_AT_MOST)
    .fetch(&mut *e);
    while found.len() < wanted
        && let Some((id, data, context, key)) = tail.try_next().await?
    {
        if terms_in(&data, &context, key.as_deref()).contains(&term) {
            found.push(id);
        }
    }
    drop(tail);
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

/// What a customer could have quoted of each of these events, one event at a time: its id,
/// data, context and idempotency key.
pub async fn each_quotable<'a>(
    db: impl Into<Source<'a>>,
    ids: &[i64],
    mut each: impl FnMut(i64, &str, &str, Option<&str>),
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
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
        let mut events = query
            .build_query_as::<(i64, String, String, Option<String>)>()
            .fetch(e);
        while let Some((id, data, context, key)) = events.try_next().await? {
            each(id, &data, &context, key.as_deref());
        }
        Ok(())
    })
}
