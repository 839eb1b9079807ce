//! The event catalog: the host application registers the types it publishes, and archives
//! those it publishes no more.

use super::{Actor, Audit};
use crate::db::event_types::{self, EventType};
use crate::db::{Db, StoreError};
use crate::domain::{AuditAction, DataSchema, EventTypeKey};

/// Adds a type; a key that exists is a conflict, not a change.
pub async fn register(db: &Db, actor: &Actor, event_type: &EventType) -> Result<(), StoreError> {
    let now = db.now();
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

/// Archives a type or restores it; audited only when it changes.
pub async fn set_archived(
    db: &Db,
    actor: &Actor,
    key: &EventTypeKey,
    archived: bool,
) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    if event_types::set_archived(&mut tx, key, archived, now).await? {
        Audit {
            actor,
            action: match archived {
                true => AuditAction::EventTypeArchived,
                false => AuditAction::EventTypeRestored,
            },
            target_type: "event type",
            target: key.as_str(),
            summary: match archived {
                true => "gone from pickers, refused at publish".into(),
                false => "can be published and subscribed to again".into(),
            },
        }
        .record(&mut tx, now)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Gives a type a new schema, or takes its schema away (`None`): its next version, audited.
pub async fn change_schema(
    db: &Db,
    actor: &Actor,
    key: &EventTypeKey,
    schema: Option<&DataSchema>,
) -> Result<i64, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let version = event_types::set_schema(&mut tx, key, schema).await?;
    let summary = match schema {
        Some(_) => format!("schema version {version}"),
        None => format!("schema removed (version {version})"),
    };
    Audit {
        actor,
        action: AuditAction::EventTypeSchemaChanged,
        target_type: "event type",
        target: key.as_str(),
        summary,
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(version)
}
