//! Creating, changing, switching off and deleting webhooks.

use super::webhook_changes::{describe_changes, describe_new};
use super::{Actor, Audit, Inbox, operational};
use crate::clock::Timestamp;
use crate::db::webhooks::Webhook;
use crate::db::{Db, StoreError, webhooks};
use crate::domain::{
    AboutWebhook, AccountKey, AuditAction, MaxWebhooksPerAccount, OperationalEvent, Recovery,
    WebhookDraft, WebhookStatus,
};
use crate::secrets::secret_box::SecretBox;

/// Returns the new webhook's id, in `account`, if it may have another.
pub async fn create(
    db: &Db,
    secrets: &SecretBox,
    actor: &Actor,
    account: &AccountKey,
    limit: MaxWebhooksPerAccount,
    draft: &WebhookDraft,
) -> Result<i64, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let id = webhooks::create(&mut tx, secrets, account, limit, draft, now).await?;
    Audit {
        actor,
        action: AuditAction::WebhookCreated,
        target_type: "webhook",
        target: draft.name.as_str(),
        summary: describe_new(draft),
    }
    .record_in(&mut tx, now, account)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves every field of `draft`, and the status when one is given; the audit entry lists
/// what changed, read in the same transaction. A Failing webhook pointed at another address
/// or switched off is Failing no more: `webhook.recovered` says so.
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    inbox: &Inbox,
    actor: &Actor,
    id: i64,
    draft: &WebhookDraft,
    status: Option<WebhookStatus>,
) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let before = webhooks::find(&mut tx, id, now).await?;
    webhooks::update(&mut tx, secrets, id, draft, now).await?;
    let mut summary = describe_changes(&before, draft);
    let status = status.filter(|status| *status != before.status);
    let how = match status {
        Some(status) if !status.is_active() => Some(Recovery::SwitchedOff),
        _ if before.url != draft.url.as_str() => Some(Recovery::UrlChanged),
        _ => None,
    };
    let recovered = how.and_then(|how| recovery(&before, how, now));
    if let Some(status) = status {
        webhooks::set_status(&mut tx, id, status, None, now).await?;
        let change = format!("status → {}", status.label());
        summary = if summary == "no changes" {
            change
        } else {
            format!("{summary}; {change}")
        };
    }
    Audit {
        actor,
        action: AuditAction::WebhookUpdated,
        target_type: "webhook",
        target: draft.name.as_str(),
        summary,
    }
    .record_in(&mut tx, now, &before.account)
    .await?;
    let fresh = operational::publish(&mut tx, inbox, recovered.as_slice(), now).await?;
    tx.commit().await?;
    inbox.hand_over(fresh);
    Ok(())
}

/// `webhook.recovered` for a webhook that was Failing before a change that ends it.
fn recovery(before: &Webhook, how: Recovery, now: Timestamp) -> Option<OperationalEvent> {
    let failing = before.failing.as_ref()?;
    Some(OperationalEvent::WebhookRecovered {
        webhook: AboutWebhook {
            id: before.id,
            name: before.name.clone(),
            account: before.account.clone(),
        },
        failing_since: failing.since,
        at: now,
        how,
    })
}

/// Enables or disables a webhook; returns its name. Switching off a Failing webhook ends its
/// Failing: `webhook.recovered` says so.
pub async fn set_status(
    db: &Db,
    inbox: &Inbox,
    actor: &Actor,
    id: i64,
    status: WebhookStatus,
) -> Result<String, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let before = webhooks::find(&mut tx, id, now).await?;
    let recovered = match status.is_active() {
        false => recovery(&before, Recovery::SwitchedOff, now),
        true => None,
    };
    let name = webhooks::set_status(&mut tx, id, status, None, now).await?;
    let action = if status.is_active() {
        AuditAction::WebhookEnabled
    } else {
        AuditAction::WebhookDisabled
    };
    Audit {
        actor,
        action,
        target_type: "webhook",
        target: &name,
        summary: format!("status → {}", status.label()),
    }
    .record_in(&mut tx, now, &before.account)
    .await?;
    let fresh = operational::publish(&mut tx, inbox, recovered.as_slice(), now).await?;
    tx.commit().await?;
    inbox.hand_over(fresh);
    Ok(name)
}

/// Deletes a webhook with its settings and deliveries; returns its name.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<String, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let account = webhooks::account_of(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let name = webhooks::delete(&mut tx, id).await?;
    Audit {
        actor,
        action: AuditAction::WebhookDeleted,
        target_type: "webhook",
        target: &name,
        summary: "deleted with its settings".into(),
    }
    .record_in(&mut tx, now, &account)
    .await?;
    tx.commit().await?;
    Ok(name)
}

/// The engine switches off a webhook whose deliveries have all failed for `failing_for`;
/// the audit log names the system, and `webhook.disabled` tells whoever subscribed to it.
pub async fn auto_disable(
    db: &Db,
    inbox: &Inbox,
    id: i64,
    failing_for: std::time::Duration,
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let reason = format!(
        "every delivery failed for {}",
        humantime::format_duration(failing_for)
    );
    let switched = SwitchOff {
        id,
        status: WebhookStatus::AutoDisabled,
        reason: &reason,
        status_code: None,
    };
    let happened = switched.record(&mut tx, now).await?;
    let fresh = operational::publish(&mut tx, inbox, happened.as_slice(), now).await?;
    tx.commit().await?;
    inbox.hand_over(fresh);
    Ok(())
}

/// The system switching an active webhook off: an auto-disable, or a receiver's 410.
pub struct SwitchOff<'a> {
    pub id: i64,
    pub status: WebhookStatus,
    /// Why, in words, for the audit log, the webhook's page and `webhook.disabled`.
    pub reason: &'a str,
    /// The receiver's answer that switched it off, if one did.
    pub status_code: Option<i64>,
}

impl SwitchOff<'_> {
    /// Switches it off inside the caller's transaction, and says why in the audit log.
    /// Returns the `webhook.disabled` to publish, or nothing when it was not active.
    pub async fn record(
        &self,
        conn: &mut crate::db::WriteTx,
        now: Timestamp,
    ) -> Result<Option<OperationalEvent>, StoreError> {
        let Some((name, account)) =
            webhooks::switch_off(conn, self.id, self.status, self.reason, now).await?
        else {
            return Ok(None);
        };
        Audit {
            actor: &Actor::System,
            action: AuditAction::WebhookDisabled,
            target_type: "webhook",
            target: &name,
            summary: format!("status → {}: {}", self.status.label(), self.reason),
        }
        .record_in(conn, now, &account)
        .await?;
        Ok(Some(OperationalEvent::WebhookDisabled {
            webhook: AboutWebhook {
                id: self.id,
                name,
                account,
            },
            status: self.status,
            reason: self.reason.to_owned(),
            status_code: self.status_code,
        }))
    }
}

/// How long a rotated-out signing secret keeps signing beside the new one: a day for
/// receivers to switch.
pub const PREVIOUS_SECRET_SIGNS_FOR: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// A new signing secret; the old one keeps signing for [`PREVIOUS_SECRET_SIGNS_FOR`].
/// Returns the new secret.
pub async fn rotate_secret(
    db: &Db,
    secrets: &SecretBox,
    actor: &Actor,
    id: i64,
) -> Result<String, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut tx, id, now).await?;
    let keep_until = now.plus(PREVIOUS_SECRET_SIGNS_FOR);
    let secret = webhooks::rotate_signing_secret(&mut tx, secrets, id, keep_until).await?;
    Audit {
        actor,
        action: AuditAction::SecretRotated,
        target_type: "webhook",
        target: &webhook.name,
        summary: format!(
            "the previous secret signs too until {}",
            keep_until.absolute()
        ),
    }
    .record_in(&mut tx, now, &webhook.account)
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// The webhook's signing secret, for an admin who asked to see it: every reveal is audited.
pub async fn reveal_secret(
    db: &Db,
    secrets: &SecretBox,
    actor: &Actor,
    id: i64,
) -> Result<String, StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let webhook = webhooks::find(&mut tx, id, now).await?;
    let secret = webhooks::signing_secret(&mut tx, secrets, id).await?;
    Audit {
        actor,
        action: AuditAction::SecretRevealed,
        target_type: "webhook",
        target: &webhook.name,
        summary: "the signing secret was shown".into(),
    }
    .record_in(&mut tx, now, &webhook.account)
    .await?;
    tx.commit().await?;
    Ok(secret)
}
