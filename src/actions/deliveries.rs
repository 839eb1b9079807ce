//! Deliveries that people act on: sending one again.

use super::{Actor, Audit, Inbox};
use crate::clock::Timestamp;
use crate::db::{Db, StoreError, deliveries, events, webhooks};
use crate::domain::AuditAction;
use crate::domain::queue::Fresh;

/// Queues a delivery of this webhook for another try now, with the same `webhook-id`, and
/// wakes the engine for it.
pub async fn redeliver(
    db: &Db,
    inbox: &Inbox,
    actor: &Actor,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut tx, webhook_id, now).await?;
    deliveries::redeliver(&mut tx, webhook_id, delivery_id, now).await?;
    Audit {
        actor,
        action: AuditAction::DeliveryRedelivered,
        target_type: "webhook",
        target: &webhook.name,
        summary: format!("delivery {delivery_id} queued again"),
    }
    .record_in(&mut tx, now, &webhook.account)
    .await?;
    tx.commit().await?;
    inbox.due_now();
    Ok(())
}

/// Sends a `webhook.test` event to this active webhook only, at once (it is handed to the sender
/// through `inbox`). Returns the delivery's id.
pub async fn send_test_event(
    db: &Db,
    inbox: &Inbox,
    actor: &Actor,
    webhook_id: i64,
) -> Result<i64, StoreError> {
    let now = db.now();
    let data = serde_json::json!({
        "message": "A test event from Webhook Console: if you can read this, deliveries reach you.",
    })
    .to_string();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut tx, webhook_id, now).await?;
    if !webhook.status.is_active() {
        return Err(StoreError::WebhookDisabled);
    }
    let lease = now.plus(inbox.lease());
    let (_, delivery_id) =
        events::insert_test_event(&mut tx, webhook_id, &data, now, lease).await?;
    Audit {
        actor,
        action: AuditAction::TestEventSent,
        target_type: "webhook",
        target: &webhook.name,
        summary: format!("delivery {delivery_id}"),
    }
    .record_in(&mut tx, now, &webhook.account)
    .await?;
    tx.commit().await?;
    inbox.hand_over(vec![Fresh {
        id: delivery_id,
        webhook_id,
        test: true,
        lease,
    }]);
    Ok(delivery_id)
}

/// Queues every failed delivery of this webhook since `since` again, each with a fresh
/// schedule, and wakes the engine for them. Returns how many.
pub async fn recover_failed(
    db: &Db,
    inbox: &Inbox,
    actor: &Actor,
    webhook_id: i64,
    since: Timestamp,
) -> Result<u64, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut tx, webhook_id, now).await?;
    let recovered = deliveries::recover_failed(&mut tx, webhook_id, since, now).await?;
    Audit {
        actor,
        action: AuditAction::FailedDeliveriesRecovered,
        target_type: "webhook",
        target: &webhook.name,
        summary: format!(
            "{recovered} failed deliver{} since {} queued again",
            if recovered == 1 { "y" } else { "ies" },
            since.absolute()
        ),
    }
    .record_in(&mut tx, now, &webhook.account)
    .await?;
    tx.commit().await?;
    inbox.due_now();
    Ok(recovered)
}
