//! Periodic upkeep: old events go (with their deliveries and attempts, by cascade), and
//! webhooks that only fail are found.

use sqlx::{SqliteConnection, SqliteExecutor};

use super::StoreError;
use crate::clock::Timestamp;

/// Deletes up to `limit` of the oldest events created before `cutoff`; returns how many.
pub async fn delete_events_before(
    conn: &mut SqliteConnection,
    cutoff: Timestamp,
    limit: i64,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM events WHERE id IN (
           SELECT id FROM events WHERE created_at < ? ORDER BY id LIMIT ?)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// Active webhooks whose attempts have all failed since `since`: a failure at or before it,
/// and no success after the first of those failures.
pub async fn failing_since(
    db: impl SqliteExecutor<'_>,
    since: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH tries AS (
           SELECT d.webhook_id, a.attempted_at, a.error_code IS NULL AS ok
           FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
           JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'),
         last_success AS (
           SELECT webhook_id, MAX(attempted_at) AS at FROM tries WHERE ok GROUP BY webhook_id)
         SELECT DISTINCT t.webhook_id FROM tries t
         LEFT JOIN last_success s ON s.webhook_id = t.webhook_id
         WHERE NOT t.ok AND t.attempted_at <= ?1 AND t.attempted_at > COALESCE(s.at, -1)",
    )
    .bind(since)
    .fetch_all(db)
    .await?)
}
