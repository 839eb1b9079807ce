//! Deliveries that people act on: sending one again.

use super::{Actor, Audit};
use crate::clock::Timestamp;
use crate::db::{Db, StoreError, deliveries, webhooks};
use crate::domain::AuditAction;

/// Queues a delivery of this webhook for another try now, with the same `webhook-id`.
pub async fn redeliver(
    db: &Db,
    actor: &Actor,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut *tx, webhook_id, now).await?;
    deliveries::redeliver(&mut tx, webhook_id, delivery_id, now).await?;
    Audit {
        actor,
        action: AuditAction::DeliveryRedelivered,
        target_type: "webhook",
        target: &webhook.name,
        summary: format!("delivery {delivery_id} queued again"),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}
