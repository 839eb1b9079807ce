//! Storing a batch's fresh events and fanning each out to its webhooks' deliveries.

use std::collections::HashMap;

use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

use super::search::insert_search_terms;
use super::{NewEvent, Published, ROWS_PER_INSERT};
use crate::clock::Timestamp;
use crate::db::{StoreError, WriteTx};
use crate::domain::queue::Fresh;

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
pub(super) async fn insert_fresh(
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
    let created = fan_out(conn, &ids, now, lease_until).await?;
    Ok(tally(ids, created, lease_until))
}

/// What each new event became (how many deliveries), and the deliveries born claimed.
fn tally(
    ids: Vec<i64>,
    created: Vec<Created>,
    lease_until: Timestamp,
) -> (Vec<Published>, Vec<Fresh>) {
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
            lease: lease_until,
        })
        .collect();
    (published, fresh)
}

/// A new delivery: its id, its event's, its webhook's, and whether it was born claimed.
type Created = (i64, i64, i64, bool);

/// The deliveries of the events `ids`, one for each active webhook subscribed to its type.
/// Born claimed (due only when the lease lapses): the caller hands them to this process's
/// sender at once, and a process that dies first leaves them to the next. Those of a
/// Failing or paused webhook are born due instead, to wait for a probe or the pause's end
/// like the rest of its queue.
async fn fan_out(
    conn: &mut WriteTx,
    ids: &[i64],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Created>, StoreError> {
    match conn {
        WriteTx::Sqlite(tx) => Ok(sqlx::query_as(&fan_out_statement("e.id BETWEEN $3 AND $4"))
            .bind(now)
            .bind(lease_until)
            .bind(ids[0])
            .bind(ids[ids.len() - 1])
            .fetch_all(&mut **tx)
            .await?),
        WriteTx::Postgres(tx) => fan_out_postgres(tx, ids, now, lease_until).await,
    }
}

async fn fan_out_postgres(
    tx: &mut PgConnection,
    ids: &[i64],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Created>, StoreError> {
    loop {
        // A webhook deleted by another node after this statement read it fails the
        // statement on its foreign key; run again, the statement no longer sees it.
        sqlx::query("SAVEPOINT fan_out").execute(&mut *tx).await?;
        let created = sqlx::query_as(&fan_out_statement("e.id = ANY($3)"))
            .bind(now)
            .bind(lease_until)
            .bind(ids)
            .fetch_all(&mut *tx)
            .await;
        match created {
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                sqlx::query("ROLLBACK TO SAVEPOINT fan_out")
                    .execute(&mut *tx)
                    .await?;
            }
            created => return Ok(created?),
        }
    }
}

fn fan_out_statement(batch: &str) -> String {
    format!(
        "INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at,
                                 leased)
         SELECT e.id, w.id, 'pending', CASE WHEN {SENDABLE} THEN $2 ELSE $1 END, $1, {SENDABLE}
         FROM events e JOIN webhooks w
           ON w.status = 'active' AND w.account = e.account
          AND ((w.all_events AND e.about_webhook_id IS NULL)
               OR EXISTS (SELECT 1 FROM webhook_events x
                          WHERE x.webhook_id = w.id AND x.event_type = e.event_type))
          AND (e.about_webhook_id IS NULL OR e.about_webhook_id <> w.id)
         WHERE {batch}
         RETURNING id, event_id, webhook_id, leased"
    )
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
        WriteTx::Sqlite(tx) => insert_events_sqlite(tx, events, fresh, ids, now).await,
        WriteTx::Postgres(tx) => insert_events_postgres(tx, events, fresh, ids, now).await,
    }
}

async fn insert_events_sqlite(
    tx: &mut SqliteConnection,
    events: &[&NewEvent],
    fresh: &[usize],
    ids: &[i64],
    now: Timestamp,
) -> Result<(), StoreError> {
    for (chunk_number, chunk) in fresh.chunks(ROWS_PER_INSERT).enumerate() {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (id, event_type, event_time, current_context, data,
                                         api_token_id, about_webhook_id, idempotency_key,
                                         idempotency_fingerprint, created_at, account) ",
        );
        insert.push_values(chunk.iter().enumerate(), |mut row, (offset, &index)| {
            let event = events[index];
            row.push_bind(ids[chunk_number * ROWS_PER_INSERT + offset])
                .push_bind(&event.event_type)
                .push_bind(event.event_time)
                .push_bind(&event.current_context)
                .push_bind(&event.data)
                .push_bind(event.publisher.token())
                .push_bind(event.publisher.about_webhook())
                .push_bind(event.idempotency.as_ref().map(|i| &i.key))
                .push_bind(event.idempotency.as_ref().map(|i| &i.fingerprint))
                .push_bind(now)
                .push_bind(event.account.as_str());
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn insert_events_postgres(
    tx: &mut PgConnection,
    events: &[&NewEvent],
    fresh: &[usize],
    ids: &[i64],
    now: Timestamp,
) -> Result<(), StoreError> {
    let fresh: Vec<&NewEvent> = fresh.iter().map(|&index| events[index]).collect();
    let texts = |value: fn(&NewEvent) -> Option<&str>| -> Vec<Option<&str>> {
        fresh.iter().map(|event| value(event)).collect()
    };
    sqlx::query(
        "INSERT INTO events (id, event_type, event_time, current_context, data,
                                     api_token_id, about_webhook_id, idempotency_key,
                                     idempotency_fingerprint, created_at, account)
                 SELECT id, event_type, event_time, current_context, data, api_token_id,
                        about_webhook_id, idempotency_key, idempotency_fingerprint, $10, account
                 FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::bigint[], $7::bigint[], $8::text[], $9::text[], $11::text[])
                      AS e (id, event_type, event_time, current_context, data, api_token_id,
                            about_webhook_id, idempotency_key, idempotency_fingerprint,
                            account)",
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
    .bind(
        fresh
            .iter()
            .map(|e| e.publisher.token())
            .collect::<Vec<_>>(),
    )
    .bind(
        fresh
            .iter()
            .map(|e| e.publisher.about_webhook())
            .collect::<Vec<_>>(),
    )
    .bind(texts(|e| e.idempotency.as_ref().map(|i| i.key.as_str())))
    .bind(texts(|e| {
        e.idempotency.as_ref().map(|i| i.fingerprint.as_str())
    }))
    .bind(now)
    .bind(texts(|e| Some(e.account.as_str())))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
