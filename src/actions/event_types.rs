//! The event catalog: the host application registers the types it publishes.

use super::{Actor, Audit};
use crate::clock::Timestamp;
use crate::db::event_types::{self, EventType};
use crate::db::{Db, StoreError};
use crate::domain::AuditAction;

/// Adds a type; a key that exists is a conflict, not a change.
pub async fn register(db: &Db, actor: &Actor, event_type: &EventType) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let mut tx = db.begin_write().await?;
    event_types::register(&mut tx, event_type, now).await?;
    Audit {
        actor,
        action: AuditAction::EventTypeRegistered,
        target_type: "event type",
        target: event_type.key.as_str(),
        summary: format!("group {}", event_type.group),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}
