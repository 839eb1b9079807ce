//! The nodes sharing the database, known by their heartbeats, so that a limit meant for the
//! whole installation (sends in flight to one webhook) can be shared out among the live ones.

use super::{StoreError, WriteTx};
use crate::clock::Timestamp;

/// Notes that `node` is alive at `now`, forgets nodes silent since `forget_before`, and
/// returns how many (this one included) were heard from since `live_since`.
pub async fn heartbeat(
    tx: &mut WriteTx,
    node: &str,
    now: Timestamp,
    live_since: Timestamp,
    forget_before: Timestamp,
) -> Result<i64, StoreError> {
    on_tx!(tx, |e| {
        sqlx::query(
            "INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, $2, $2)
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(now)
        .execute(&mut *e)
        .await?;
        sqlx::query("DELETE FROM nodes WHERE seen_at < $1")
            .bind(forget_before)
            .execute(&mut *e)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE seen_at >= $1")
                .bind(live_since)
                .fetch_one(&mut *e)
                .await?,
        )
    })
}

/// The node stops: the others need not wait for its heartbeat to lapse.
pub async fn leave(tx: &mut WriteTx, node: &str) -> Result<(), StoreError> {
    on_tx!(tx, |e| {
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node)
            .execute(e)
            .await?;
    });
    Ok(())
}
