//! Accounts: the host makes one for each of its customers, renames it, and deletes it once
//! its webhooks are gone.

use super::{Actor, Audit};
use crate::db::{Db, StoreError, accounts};
use crate::domain::{AccountKey, AuditAction};

/// Creates the account or renames it; true when it was created.
pub async fn put(db: &Db, actor: &Actor, key: &AccountKey, name: &str) -> Result<bool, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let created = accounts::put(&mut tx, key, name, now).await?;
    Audit {
        actor,
        action: match created {
            true => AuditAction::AccountCreated,
            false => AuditAction::AccountRenamed,
        },
        target_type: "account",
        target: key.as_str(),
        summary: format!("name “{name}”"),
    }
    .record_in(&mut tx, now, key)
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Deletes an account that has no webhooks, with its events, tokens and people.
pub async fn delete(db: &Db, actor: &Actor, key: &AccountKey) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    accounts::delete(&mut tx, key).await?;
    Audit {
        actor,
        action: AuditAction::AccountDeleted,
        target_type: "account",
        target: key.as_str(),
        summary: "with its events, tokens and people".into(),
    }
    .record_in(&mut tx, now, key)
    .await?;
    tx.commit().await?;
    Ok(())
}
