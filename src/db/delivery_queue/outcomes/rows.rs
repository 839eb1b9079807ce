//! The attempt rows and each delivery's new state, in a few statements per batch.

use std::collections::{BTreeSet, HashMap};

use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

use super::AttemptRecord;
use crate::clock::Timestamp;
use crate::db::{Dialect, IdList, StoreError, WriteTx};

/// Rows per multi-row INSERT: 10 parameters each stays far below SQLite's limit.
const ROWS_PER_INSERT: usize = 1000;

/// The attempt rows and each delivery's new state. SQLite takes multi-row statements;
/// PostgreSQL takes each column as one array, so the statement (and its plan) is the same
/// for every batch size.
pub(super) async fn write_attempts(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<(), StoreError> {
    match tx {
        WriteTx::Sqlite(tx) => write_attempts_sqlite(tx, attempts).await,
        WriteTx::Postgres(tx) => write_attempts_postgres(tx, attempts).await,
    }
}

async fn write_attempts_sqlite(
    tx: &mut SqliteConnection,
    attempts: &[&AttemptRecord],
) -> Result<(), StoreError> {
    for chunk in attempts.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code,
                                           error_code, error_message, response_body,
                                           response_headers, signature) ",
        );
        insert.push_values(chunk, |mut row, attempt| {
            row.push_bind(attempt.delivery_id)
                .push_bind(attempt.at)
                .push_bind(attempt.duration_ms)
                .push_bind(attempt.status_code)
                .push_bind(attempt.error_code)
                .push_bind(&attempt.error_message)
                .push_bind(&attempt.response_excerpt)
                .push_bind(&attempt.response_headers)
                .push_bind(&attempt.signature);
        });
        insert.build().execute(&mut *tx).await?;
        let mut update = QueryBuilder::<Sqlite>::new(format!(
            "UPDATE deliveries SET {SETTLE} FROM (SELECT column1 AS id, column2 AS status,
                            column3 AS next_attempt_at, column4 AS at, column5 AS status_code,
                            column6 AS keeps_schedule FROM ("
        ));
        update.push_values(chunk, |mut row, attempt| {
            row.push_bind(attempt.delivery_id)
                .push_bind(attempt.status)
                .push_bind(attempt.next_attempt_at)
                .push_bind(attempt.at)
                .push_bind(attempt.status_code)
                .push_bind(attempt.keeps_schedule);
        });
        update.push("))");
        update.push(" AS v WHERE deliveries.id = v.id");
        update.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn write_attempts_postgres(
    tx: &mut PgConnection,
    attempts: &[&AttemptRecord],
) -> Result<(), StoreError> {
    let column = |value: fn(&AttemptRecord) -> Option<String>| -> Vec<Option<String>> {
        attempts.iter().map(|attempt| value(attempt)).collect()
    };
    let ids: Vec<i64> = attempts.iter().map(|a| a.delivery_id).collect();
    let at: Vec<i64> = attempts.iter().map(|a| a.at.unix_ms()).collect();
    let status_codes: Vec<Option<i64>> = attempts.iter().map(|a| a.status_code).collect();
    sqlx::query(
        "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code,
                                       error_code, error_message, response_body,
                                       response_headers, signature)
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                                      $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])",
    )
    .bind(&ids)
    .bind(&at)
    .bind(attempts.iter().map(|a| a.duration_ms).collect::<Vec<_>>())
    .bind(&status_codes)
    .bind(column(|a| a.error_code.map(|code| code.key().to_owned())))
    .bind(column(|a| a.error_message.clone()))
    .bind(column(|a| a.response_excerpt.clone()))
    .bind(column(|a| a.response_headers.clone()))
    .bind(column(|a| Some(a.signature.clone())))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "UPDATE deliveries SET {SETTLE}
                 FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                             $6::boolean[])
                      AS v (id, status, next_attempt_at, at, status_code, keeps_schedule)
                 WHERE deliveries.id = v.id"
    ))
    .bind(&ids)
    .bind(column(|a| Some(a.status.key().to_owned())))
    .bind(
        attempts
            .iter()
            .map(|a| a.next_attempt_at.map(Timestamp::unix_ms))
            .collect::<Vec<_>>(),
    )
    .bind(&at)
    .bind(&status_codes)
    .bind(
        attempts
            .iter()
            .map(|a| a.keeps_schedule)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A delivery's state after a try `v`, which ends its claim. A Redeliver pressed while the
/// try was under way queues the delivery again, due at once with a fresh schedule, rather
/// than sending it twice at the same time; a failed probe keeps the schedule where it was.
const SETTLE: &str = "
    status = CASE WHEN deliveries.redeliver_requested_at > v.at THEN 'pending' ELSE v.status END,
    next_attempt_at = CASE WHEN deliveries.redeliver_requested_at > v.at
                           THEN deliveries.redeliver_requested_at ELSE v.next_attempt_at END,
    schedule_start = CASE WHEN deliveries.redeliver_requested_at > v.at
                          THEN deliveries.attempt_count + 1
                          WHEN v.keeps_schedule THEN deliveries.schedule_start + 1
                          ELSE deliveries.schedule_start END,
    attempt_count = deliveries.attempt_count + 1,
    last_attempt_at = v.at, last_status_code = v.status_code,
    leased = false, redeliver_requested_at = NULL";

/// Locks the webhooks and deliveries these tries belong to, and returns the deliveries that
/// still exist, each with the lease it is held under now (none when it is not held). On
/// SQLite the one writer holds everything already.
pub(super) async fn lock_deliveries(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<HashMap<i64, Option<Timestamp>>, StoreError> {
    let webhooks: Vec<i64> = attempts
        .iter()
        .map(|a| a.webhook_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let deliveries: Vec<i64> = attempts.iter().map(|a| a.delivery_id).collect();
    on_tx!(tx, |e, d, DB| {
        if d == Dialect::Postgres {
            let mut query = QueryBuilder::<DB>::new("SELECT id FROM webhooks WHERE id");
            query.push_in(&webhooks).push(" ORDER BY id FOR KEY SHARE");
            query.build().execute(&mut *e).await?;
        }
        let mut query = QueryBuilder::<DB>::new(
            "SELECT id, CASE WHEN leased THEN next_attempt_at END FROM deliveries WHERE id",
        );
        query
            .push_in(&deliveries)
            .push(d.pick(" ORDER BY id", " ORDER BY id FOR UPDATE"));
        let found: Vec<(i64, Option<Timestamp>)> = query.build_query_as().fetch_all(e).await?;
        Ok(found.into_iter().collect())
    })
}
