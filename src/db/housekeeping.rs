//! Periodic upkeep: old events go (with their deliveries and attempts, by cascade), and
//! webhooks that only fail are found.

use super::{Source, StoreError, WriteTx};
use crate::clock::Timestamp;

/// Deletes up to `limit` of the oldest events created before `cutoff`; returns how many.
/// On SQLite their search terms go first (a full-text table has no foreign key to cascade).
pub async fn delete_events_before(
    tx: &mut WriteTx,
    cutoff: Timestamp,
    limit: i64,
) -> Result<u64, StoreError> {
    const OLDEST: &str = "SELECT id FROM events WHERE created_at < $1 ORDER BY id LIMIT $2";
    if let WriteTx::Sqlite(tx) = tx {
        sqlx::query(&format!(
            "DELETE FROM event_search WHERE rowid IN ({OLDEST})"
        ))
        .bind(cutoff)
        .bind(limit)
        .execute(&mut **tx)
        .await?;
    }
    on_tx!(tx, |e| Ok(sqlx::query(&format!(
        "DELETE FROM events WHERE id IN ({OLDEST})"
    ))
    .bind(cutoff)
    .bind(limit)
    .execute(e)
    .await?
    .rows_affected()))
}

/// Active webhooks whose attempts have all failed since `since`: a failure at or before it,
/// and no success after the first of those failures.
pub async fn failing_since<'a>(
    db: impl Into<Source<'a>>,
    since: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "WITH tries AS (
           SELECT d.webhook_id, a.attempted_at, a.error_code IS NULL AS ok
           FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
           JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'),
         last_success AS (
           SELECT webhook_id, MAX(attempted_at) AS at FROM tries WHERE ok GROUP BY webhook_id)
         SELECT DISTINCT t.webhook_id FROM tries t
         LEFT JOIN last_success s ON s.webhook_id = t.webhook_id
         WHERE NOT t.ok AND t.attempted_at <= $1 AND t.attempted_at > COALESCE(s.at, -1)",
    )
    .bind(since)
    .fetch_all(e)
    .await?))
}
