//! What a batch of tries turned for the people watching: a webhook that started failing or
//! recovered, a delivery that gave up. Read inside the batch's transaction, from the rows
//! it locks, so two nodes never both report the same turn.

use std::collections::HashMap;

use sqlx::QueryBuilder;

use super::AttemptRecord;
use crate::clock::Timestamp;
use crate::db::{IdList, StoreError, WriteTx};
use crate::domain::receiver_health::ReceiverChange;
use crate::domain::{AboutWebhook, AccountKey, DeliveryStatus, GaveUp, OperationalEvent, Recovery};

/// A webhook's name and whether (since when) it was Failing, before the batch's change.
pub(super) struct Before {
    pub webhook: AboutWebhook,
    pub failing_since: Option<Timestamp>,
}

/// Read only for a change that can turn the webhook (Failing from now, or a success after
/// failures), and locked as the update that follows would lock it.
pub(super) async fn before(
    tx: &mut WriteTx,
    webhook_id: i64,
    change: &ReceiverChange<'_>,
) -> Result<Option<Before>, StoreError> {
    if change.failing.is_none() && !change.reset {
        return Ok(None);
    }
    on_tx!(tx, |e, d| {
        let row: Option<(String, Option<Timestamp>, AccountKey)> = sqlx::query_as(&format!(
            "SELECT name, failing_since, account FROM webhooks WHERE id = $1{}",
            d.pick("", " FOR NO KEY UPDATE")
        ))
        .bind(webhook_id)
        .fetch_optional(e)
        .await?;
        Ok(row.map(|(name, failing_since, account)| Before {
            webhook: AboutWebhook {
                id: webhook_id,
                name,
                account,
            },
            failing_since,
        }))
    })
}

/// The turns one webhook's change made: recovered (a success while Failing), and Failing
/// (from now, or again after recovering within the batch).
pub(super) fn turns(
    before: Before,
    change: &ReceiverChange<'_>,
    at: Timestamp,
) -> Vec<OperationalEvent> {
    let mut turns = Vec::new();
    if let (Some(failing_since), true) = (before.failing_since, change.reset) {
        turns.push(OperationalEvent::WebhookRecovered {
            webhook: before.webhook.clone(),
            failing_since,
            at,
            how: Recovery::DeliverySucceeded,
        });
    }
    if let Some(failing) = change.failing
        && (before.failing_since.is_none() || change.reset)
    {
        turns.push(OperationalEvent::WebhookFailing {
            webhook: before.webhook,
            code: failing.code,
            reason: failing.reason.clone(),
            since: failing.since,
            next_probe_at: failing.next_probe_at,
        });
    }
    turns
}

/// `delivery.failed` for each delivery of the batch that gave up, except those carrying the
/// console's own events: a failed notice raises no notice about itself.
pub(super) async fn gave_up(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<Vec<OperationalEvent>, StoreError> {
    let failed: HashMap<i64, &AttemptRecord> = attempts
        .iter()
        .filter(|attempt| attempt.status == DeliveryStatus::Failed)
        .map(|attempt| (attempt.delivery_id, *attempt))
        .collect();
    if failed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = failed.keys().copied().collect();
    type Row = (i64, i64, String, i64, i64, String, AccountKey);
    let rows: Vec<Row> = on_tx!(tx, |e, _, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "SELECT d.id, d.event_id, e.event_type, d.attempt_count, w.id, w.name, w.account
             FROM deliveries d
             JOIN events e ON e.id = d.event_id
             JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'failed' AND e.about_webhook_id IS NULL
               AND e.event_type <> 'webhook.test' AND d.id",
        );
        query.push_in(&ids).push(" ORDER BY d.id");
        query.build_query_as().fetch_all(e).await?
    });
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, event_id, event_type, attempts, webhook_id, name, account)| {
                let last = failed.get(&id)?;
                Some(OperationalEvent::DeliveryFailed {
                    webhook: AboutWebhook {
                        id: webhook_id,
                        name,
                        account,
                    },
                    delivery: GaveUp {
                        id,
                        event_id,
                        event_type,
                        attempts,
                        reason: last.error_message.clone().unwrap_or_default(),
                        status_code: last.status_code,
                    },
                })
            },
        )
        .collect())
}
