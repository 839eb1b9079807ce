//! Claiming due deliveries with a lease: probes of Failing webhooks first, then each
//! sendable webhook's oldest due deliveries, read through its own index range.

use sqlx::QueryBuilder;

use std::collections::HashSet;

use super::{Claimed, load};
use crate::clock::Timestamp;
use crate::db::{IdList, StoreError, WriteTx};
use crate::secrets::secret_box::SecretBox;

/// How much to claim: the oldest due deliveries of at most `webhooks` webhooks, those due
/// longest first, and at most `per_webhook` of each; none of the webhooks in `busy` (this
/// process holds enough of theirs).
pub struct ClaimLimits<'a> {
    pub webhooks: i64,
    pub per_webhook: i64,
    pub busy: &'a [i64],
}

/// Which webhooks a claim looks at.
enum Among<'a> {
    /// Those taking deliveries: active, not Failing, not paused, not busy.
    Sendable { busy: &'a [i64] },
    /// These (Failing webhooks due a probe).
    Only(&'a [i64]),
}

/// Claims due deliveries until `lease_until`: first one probe for each Failing webhook whose
/// probe is due (its next probe waits until the lease ends, so nodes probe one at a time),
/// then the oldest due deliveries of the webhooks taking deliveries, webhook by webhook.
/// Each webhook's queue is read through its own index range, so one webhook's backlog of
/// millions costs another's retry nothing.
pub async fn claim_due(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    limits: ClaimLimits<'_>,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Claimed>, StoreError> {
    let probes = claim_probes(tx, limits.busy, limits.webhooks, now, lease_until).await?;
    let sendable = claim_heads(
        tx,
        Among::Sendable { busy: limits.busy },
        limits.per_webhook,
        limits.webhooks,
        now,
        lease_until,
    )
    .await?;
    let ids: Vec<i64> = probes.iter().chain(&sendable).map(|(id, _)| *id).collect();
    let mut claimed = load(tx, secrets, &ids, now).await?;
    let probe_ids: HashSet<i64> = probes.iter().map(|(id, _)| *id).collect();
    for delivery in &mut claimed {
        delivery.probe = probe_ids.contains(&delivery.id);
    }
    Ok(claimed)
}

/// One probe for each Failing webhook whose probe is due; its next probe waits until the
/// lease ends, so nodes probe one at a time. Returns (delivery, webhook) pairs.
async fn claim_probes(
    tx: &mut WriteTx,
    busy: &[i64],
    webhooks: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let due_a_probe: Vec<i64> = on_tx!(&mut *tx, |e, d, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "SELECT w.id FROM webhooks w WHERE w.status = 'active'
               AND w.failing_since IS NOT NULL AND w.next_probe_at <= ",
        );
        query.push_bind(now);
        query
            .push(" AND (w.paused_until IS NULL OR w.paused_until <= ")
            .push_bind(now)
            .push(")");
        if !busy.is_empty() {
            query.push(" AND w.id").push_not_in(busy);
        }
        query.push(d.pick("", " FOR NO KEY UPDATE SKIP LOCKED"));
        query.build_query_scalar().fetch_all(e).await?
    });
    if due_a_probe.is_empty() {
        return Ok(Vec::new());
    }
    let probes = claim_heads(tx, Among::Only(&due_a_probe), 1, webhooks, now, lease_until).await?;
    let probed: Vec<i64> = probes.iter().map(|(_, webhook)| *webhook).collect();
    on_tx!(&mut *tx, |e, _, DB| {
        let mut query = QueryBuilder::<DB>::new("UPDATE webhooks SET next_probe_at = ");
        query
            .push_bind(lease_until)
            .push(" WHERE id")
            .push_in(&probed);
        query.build().execute(e).await?;
    });
    Ok(probes)
}

/// The oldest due deliveries, at most `take` of each of the `webhooks` webhooks due longest,
/// leased until `lease_until`. Returns (delivery, webhook) pairs.
async fn claim_heads(
    tx: &mut WriteTx,
    among: Among<'_>,
    take: i64,
    webhooks: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<(i64, i64)>, StoreError> {
    on_tx!(tx, |e, d, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "WITH ready AS (
               SELECT w.id AS webhook_id,
                      (SELECT MIN(q.next_attempt_at) FROM deliveries q
                        WHERE q.webhook_id = w.id AND q.status = 'pending') AS due
               FROM webhooks w WHERE w.status = 'active'",
        );
        match among {
            Among::Sendable { busy } => {
                query.push(" AND w.failing_since IS NULL AND (w.paused_until IS NULL OR w.paused_until <= ");
                query.push_bind(now).push(")");
                if !busy.is_empty() {
                    query.push(" AND w.id").push_not_in(busy);
                }
            }
            Among::Only(ids) => {
                query.push(" AND w.id").push_in(ids);
            }
        }
        query.push("), chosen AS (SELECT webhook_id FROM ready WHERE due <= ");
        query
            .push_bind(now)
            .push(" ORDER BY due LIMIT ")
            .push_bind(webhooks);
        query.push(") UPDATE deliveries SET leased = true, next_attempt_at = ");
        query.push_bind(lease_until);
        query.push(d.pick(
            " WHERE id IN (SELECT x.id FROM chosen c JOIN deliveries x ON x.id IN (
                 SELECT y.id FROM deliveries y",
            " WHERE id IN (SELECT x.id FROM chosen c CROSS JOIN LATERAL (
                 SELECT y.id FROM deliveries y",
        ));
        query.push(
            " WHERE y.webhook_id = c.webhook_id AND y.status = 'pending' AND y.next_attempt_at <= ",
        );
        query
            .push_bind(now)
            .push(" ORDER BY y.next_attempt_at LIMIT ")
            .push_bind(take);
        query.push(d.pick("))", " FOR UPDATE SKIP LOCKED) x)"));
        query.push(" RETURNING id, webhook_id");
        Ok(query.build_query_as().fetch_all(e).await?)
    })
}
