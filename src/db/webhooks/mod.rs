use std::time::Duration;

use sqlx::QueryBuilder;

use super::{StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{
    AccountKey, ApiKeyChange, EventSelection, MaxWebhooksPerAccount, WebhookDraft, WebhookName,
    WebhookStatus,
};
use crate::secrets::secret_box::{Purpose, SecretBox};

pub(in crate::db) mod headers;
mod reads;
pub(in crate::db) mod secrets;
mod stored;

pub use headers::{ShownHeader, custom_headers};
pub use reads::{
    HourlyOutcomes, Waiting, account_of, count, ensure_exists, find, hourly_outcomes, list,
    look_alike, names, waiting,
};
pub use stored::{LastDelivery, Webhook};

pub use secrets::{
    SigningSecrets, api_key, backfill_signing_secrets, rotate_signing_secret, signing_secret,
    signing_secrets,
};
use secrets::{new_signing_secret, seal_api_key};

/// The window of the list's success rate.
const SUCCESS_RATE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The list counts a webhook's pending and failed deliveries this far ("1000+" beyond), so
/// a backlog of millions costs no more to show than a short one.
pub const COUNTED_UP_TO: i64 = 1000;

#[derive(Debug, Default, Clone)]
pub struct WebhookFilter {
    /// This account's alone; none: every account's.
    pub account: Option<AccountKey>,
    /// Part of the name (any case) or of the URL.
    pub search: Option<String>,
    pub status: Option<WebhookStatus>,
    pub event_type: Option<String>,
    /// Only active webhooks that are Failing.
    pub failing: bool,
    /// Failing first, then auto-disabled, paused, healthy and disabled; by name within.
    pub by_health: bool,
}

/// An active webhook that is Failing (its circuit is open).
const FAILING_SQL: &str = "(w.status = 'active' AND w.failing_since IS NOT NULL)";

/// A new webhook with an id never used before, even by a deleted one.
pub async fn create(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    account: &AccountKey,
    limit: MaxWebhooksPerAccount,
    draft: &WebhookDraft,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let webhooks: Option<i64> = on_tx!(&mut *tx, |e| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM webhooks w WHERE w.account = a.key)
         FROM accounts a WHERE a.key = $1"
    )
    .bind(account.as_str())
    .fetch_optional(e)
    .await?);
    match webhooks {
        None => return Err(StoreError::UnknownAccount(account.to_string())),
        Some(webhooks) if !limit.allows_another(account, webhooks) => {
            return Err(StoreError::AccountFull { limit: limit.0 });
        }
        Some(_) => {}
    }
    let api_key = match &draft.api_key {
        ApiKeyChange::Set(key) => Some(seal_api_key(secrets, key)),
        ApiKeyChange::Keep | ApiKeyChange::Remove => None,
    };
    let signing_secret = secrets.seal(Purpose::SigningSecret, &new_signing_secret());
    let custom_headers = headers::seal(secrets, &draft.headers, "[]")?;
    refuse_look_alike(tx, account, &draft.name, None).await?;
    let id: i64 = on_tx!(&mut *tx, |e| {
        let id = sqlx::query_scalar(
            "UPDATE webhook_ids SET last_id = last_id + 1 WHERE only_row = 1 RETURNING last_id",
        )
        .fetch_one(&mut *e)
        .await?;
        sqlx::query(
            "INSERT INTO webhooks (id, name, name_folded, name_look_alike_key, url,
                                   notification_type, all_events, api_key, signing_secret,
                                   status, created_at, updated_at, max_per_second,
                                   custom_headers, account)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(draft.name.as_str())
        .bind(draft.name.folded())
        .bind(draft.name.look_alike_key())
        .bind(draft.url.as_str())
        .bind(draft.notification_type)
        .bind(draft.events == EventSelection::All)
        .bind(api_key)
        .bind(signing_secret)
        .bind(now)
        .bind(draft.max_per_second.map(|max| i64::from(max.get())))
        .bind(custom_headers)
        .bind(account.as_str())
        .execute(e)
        .await
        .map_err(|error| name_taken(error, &draft.name))?;
        id
    });
    insert_events(tx, id, &draft.events).await?;
    Ok(id)
}

pub async fn update(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    id: i64,
    draft: &WebhookDraft,
    now: Timestamp,
) -> Result<(), StoreError> {
    let account = account_of(&mut *tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    refuse_look_alike(tx, &account, &draft.name, Some(id)).await?;
    let custom_headers = headers::seal(
        secrets,
        &draft.headers,
        &headers::column(&mut *tx, id).await?,
    )?;
    on_tx!(&mut *tx, |e| {
        let mut query = QueryBuilder::new("UPDATE webhooks SET ");
        // Another address is another receiver: what was learnt of the old one is forgotten.
        for (column, kept) in RECEIVER_STATE {
            query
                .push(format!("{column} = CASE WHEN url = "))
                .push_bind(draft.url.as_str())
                .push(format!(" THEN {column} ELSE {kept} END, "));
        }
        query
            .push("name = ")
            .push_bind(draft.name.as_str())
            .push(", name_folded = ")
            .push_bind(draft.name.folded())
            .push(", name_look_alike_key = ")
            .push_bind(draft.name.look_alike_key())
            .push(", url = ")
            .push_bind(draft.url.as_str())
            .push(", notification_type = ")
            .push_bind(draft.notification_type)
            .push(", all_events = ")
            .push_bind(draft.events == EventSelection::All)
            .push(", max_per_second = ")
            .push_bind(draft.max_per_second.map(|max| i64::from(max.get())))
            .push(", custom_headers = ")
            .push_bind(custom_headers)
            .push(", updated_at = ")
            .push_bind(now);
        if let Some(sealed) = sealed_api_key(secrets, &draft.api_key) {
            query.push(", api_key = ").push_bind(sealed);
        }
        query.push(" WHERE id = ").push_bind(id);
        let updated = query
            .build()
            .execute(&mut *e)
            .await
            .map_err(|error| name_taken(error, &draft.name))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM webhook_events WHERE webhook_id = $1")
            .bind(id)
            .execute(e)
            .await?;
    });
    insert_events(tx, id, &draft.events).await
}

/// The API key column's new value, if it changes: `Some(None)` removes the key.
fn sealed_api_key(secrets: &SecretBox, change: &ApiKeyChange) -> Option<Option<String>> {
    match change {
        ApiKeyChange::Keep => None,
        ApiKeyChange::Remove => Some(None),
        ApiKeyChange::Set(key) => Some(Some(seal_api_key(secrets, key))),
    }
}

/// What the engine learnt of a webhook's receiver, each column with its value for a
/// receiver it knows nothing of.
const RECEIVER_STATE: [(&str, &str); 6] = [
    ("consecutive_failures", "0"),
    ("failing_since", "NULL"),
    ("failing_reason", "NULL"),
    ("failing_code", "NULL"),
    ("next_probe_at", "NULL"),
    ("paused_until", "NULL"),
];

/// Returns the webhook's name, for the confirmation.
/// `reason` says why the system switched it; a person's change clears it. Switched on or off,
/// a webhook starts afresh: what the engine learnt of its receiver is forgotten.
pub async fn set_status(
    tx: &mut WriteTx,
    id: i64,
    status: WebhookStatus,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<String, StoreError> {
    change_status(tx, id, status, reason, now, "")
        .await?
        .map(|(name, _)| name)
        .ok_or(StoreError::NotFound)
}

/// The system switches an active webhook off: returns its name and account, or nothing when
/// it was not active (an admin switched it off first, or an earlier answer did).
pub async fn switch_off(
    tx: &mut WriteTx,
    id: i64,
    status: WebhookStatus,
    reason: &str,
    now: Timestamp,
) -> Result<Option<(String, AccountKey)>, StoreError> {
    change_status(tx, id, status, Some(reason), now, "AND status = 'active'").await
}

async fn change_status(
    tx: &mut WriteTx,
    id: i64,
    status: WebhookStatus,
    reason: Option<&str>,
    now: Timestamp,
    only_if: &str,
) -> Result<Option<(String, AccountKey)>, StoreError> {
    let forget: Vec<String> = RECEIVER_STATE
        .iter()
        .map(|(column, fresh)| format!("{column} = {fresh}"))
        .collect();
    on_tx!(tx, |e| Ok(sqlx::query_as(&format!(
        "UPDATE webhooks SET status = $1, status_reason = $2, updated_at = $3, {}
         WHERE id = $4 {only_if} RETURNING name, account",
        forget.join(", ")
    ))
    .bind(status)
    .bind(reason)
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await?))
}

/// Returns the deleted webhook's name, for the confirmation.
pub async fn delete(tx: &mut WriteTx, id: i64) -> Result<String, StoreError> {
    on_tx!(tx, |e| sqlx::query_scalar(
        "DELETE FROM webhooks WHERE id = $1 RETURNING name"
    )
    .bind(id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

/// Checked inside the write so the message can name the webhook it collides with; the
/// unique index still refuses a look-alike committed by another node meanwhile.
async fn refuse_look_alike(
    tx: &mut WriteTx,
    account: &AccountKey,
    name: &WebhookName,
    except: Option<i64>,
) -> Result<(), StoreError> {
    match look_alike(tx, account, name, except).await? {
        Some(existing) => Err(StoreError::WebhookNameTaken { existing }),
        None => Ok(()),
    }
}

async fn insert_events(
    tx: &mut WriteTx,
    id: i64,
    events: &EventSelection,
) -> Result<(), StoreError> {
    let EventSelection::Only(keys) = events else {
        return Ok(());
    };
    on_tx!(tx, |e| {
        let mut query = QueryBuilder::new("INSERT INTO webhook_events (webhook_id, event_type) ");
        query.push_values(keys, |mut row, key| {
            row.push_bind(id).push_bind(key.as_str());
        });
        query.build().execute(e).await?;
    });
    Ok(())
}

/// A name refused by the unique indexes: the look-alike was committed after
/// [`refuse_look_alike`] looked, by another node, so its spelling is not known here.
fn name_taken(error: sqlx::Error, name: &WebhookName) -> StoreError {
    match &error {
        // SQLite names the column ("webhooks.name_folded"), PostgreSQL the index.
        sqlx::Error::Database(db)
            if db.is_unique_violation()
                && ["name_folded", "name_look_alike_key"].iter().any(|column| {
                    db.constraint() == Some(&format!("webhooks_{column}"))
                        || db.message().contains(&format!("webhooks.{column}"))
                }) =>
        {
            StoreError::WebhookNameTaken {
                existing: name.as_str().to_owned(),
            }
        }
        _ => StoreError::Database(error),
    }
}
