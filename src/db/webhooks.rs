use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::{StoreError, event_types::decode_key, now_ms};
use crate::domain::{ApiKeyChange, EventSelection, NotificationType, WebhookDraft, WebhookStatus};
use crate::secret_box::{Purpose, SecretBox};

mod secrets;

pub use secrets::{api_key, backfill_signing_secrets, signing_secret};
use secrets::{new_signing_secret, seal_api_key};

/// The window of the list's success rate.
const SUCCESS_RATE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub notification_type: NotificationType,
    pub events: EventSelection,
    pub status: WebhookStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_delivery: Option<LastDelivery>,
    pub succeeded_24h: i64,
    pub failed_24h: i64,
}

#[derive(Debug, Clone)]
pub struct LastDelivery {
    pub at: i64,
    pub succeeded: bool,
}

#[derive(Debug, Default, Clone)]
pub struct WebhookFilter {
    /// Part of the name (any case) or of the URL.
    pub search: Option<String>,
    pub status: Option<WebhookStatus>,
    pub event_type: Option<String>,
}

pub async fn create(
    conn: &mut SqliteConnection,
    secrets: &SecretBox,
    draft: &WebhookDraft,
) -> Result<i64, StoreError> {
    let now = now_ms();
    let api_key = match &draft.api_key {
        ApiKeyChange::Set(key) => Some(seal_api_key(secrets, key)),
        ApiKeyChange::Keep | ApiKeyChange::Remove => None,
    };
    let signing_secret = secrets.seal(Purpose::SigningSecret, &new_signing_secret());
    let id = sqlx::query_scalar(
        "INSERT INTO webhooks (name, name_folded, url, notification_type, all_events, api_key,
                               signing_secret, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
         RETURNING id",
    )
    .bind(draft.name.as_str())
    .bind(draft.name.folded())
    .bind(draft.url.as_str())
    .bind(draft.notification_type.as_db())
    .bind(draft.events == EventSelection::All)
    .bind(api_key)
    .bind(signing_secret)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(name_taken)?;
    insert_events(conn, id, &draft.events).await?;
    Ok(id)
}

pub async fn update(
    conn: &mut SqliteConnection,
    secrets: &SecretBox,
    id: i64,
    draft: &WebhookDraft,
) -> Result<(), StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("UPDATE webhooks SET name = ");
    query
        .push_bind(draft.name.as_str())
        .push(", name_folded = ")
        .push_bind(draft.name.folded())
        .push(", url = ")
        .push_bind(draft.url.as_str())
        .push(", notification_type = ")
        .push_bind(draft.notification_type.as_db())
        .push(", all_events = ")
        .push_bind(draft.events == EventSelection::All)
        .push(", updated_at = ")
        .push_bind(now_ms());
    match &draft.api_key {
        ApiKeyChange::Keep => {}
        ApiKeyChange::Remove => {
            query.push(", api_key = NULL");
        }
        ApiKeyChange::Set(key) => {
            query
                .push(", api_key = ")
                .push_bind(seal_api_key(secrets, key));
        }
    }
    query.push(" WHERE id = ").push_bind(id);
    let updated = query
        .build()
        .execute(&mut *conn)
        .await
        .map_err(name_taken)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM webhook_events WHERE webhook_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    insert_events(conn, id, &draft.events).await
}

/// Returns the webhook's name, for the confirmation.
pub async fn set_status(
    conn: &mut SqliteConnection,
    id: i64,
    status: WebhookStatus,
) -> Result<String, StoreError> {
    sqlx::query_scalar("UPDATE webhooks SET status = ?, updated_at = ? WHERE id = ? RETURNING name")
        .bind(status.as_db())
        .bind(now_ms())
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Returns the deleted webhook's name, for the confirmation.
pub async fn delete(conn: &mut SqliteConnection, id: i64) -> Result<String, StoreError> {
    sqlx::query_scalar("DELETE FROM webhooks WHERE id = ? RETURNING name")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// How many webhooks come before this one in the unfiltered list.
pub async fn position_in_list(pool: &SqlitePool, id: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhooks w, webhooks this
         WHERE this.id = ? AND (w.name_folded, w.id) < (this.name_folded, this.id)",
    )
    .bind(id)
    .fetch_one(pool)
    .await?)
}

pub async fn find(pool: &SqlitePool, id: i64) -> Result<Webhook, StoreError> {
    let mut query = select_webhooks();
    query.push(" WHERE w.id = ").push_bind(id);
    let row = query.build().fetch_optional(pool).await?;
    row.as_ref()
        .map(decode)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn count(pool: &SqlitePool, filter: &WebhookFilter) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::new("SELECT COUNT(*) FROM webhooks w");
    push_filter(&mut query, filter);
    Ok(query.build_query_scalar().fetch_one(pool).await?)
}

/// One page of webhooks in name order.
pub async fn list(
    pool: &SqlitePool,
    filter: &WebhookFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Webhook>, StoreError> {
    let mut query = select_webhooks();
    push_filter(&mut query, filter);
    query
        .push(" ORDER BY w.name_folded, w.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build().fetch_all(pool).await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

async fn insert_events(
    conn: &mut SqliteConnection,
    id: i64,
    events: &EventSelection,
) -> Result<(), StoreError> {
    let EventSelection::Only(keys) = events else {
        return Ok(());
    };
    let mut query =
        QueryBuilder::<Sqlite>::new("INSERT INTO webhook_events (webhook_id, event_type) ");
    query.push_values(keys, |mut row, key| {
        row.push_bind(id).push_bind(key.as_str());
    });
    query.build().execute(conn).await?;
    Ok(())
}

fn select_webhooks<'a>() -> QueryBuilder<'a, Sqlite> {
    let window_start = (now_ms() - SUCCESS_RATE_WINDOW_MS) / HOUR_MS * HOUR_MS;
    let mut query = QueryBuilder::new(
        "SELECT w.id, w.name, w.url, w.notification_type, w.all_events, w.status,
                w.created_at, w.updated_at, w.last_delivery_at, w.last_delivery_outcome,
                (SELECT group_concat(e.event_type, ' ') FROM webhook_events e
                  WHERE e.webhook_id = w.id) AS events,
                (SELECT SUM(s.succeeded) FROM webhook_hourly_stats s
                  WHERE s.webhook_id = w.id AND s.hour_start >= ",
    );
    query.push_bind(window_start).push(
        ") AS succeeded,
                (SELECT SUM(s.failed) FROM webhook_hourly_stats s
                  WHERE s.webhook_id = w.id AND s.hour_start >= ",
    );
    query
        .push_bind(window_start)
        .push(") AS failed FROM webhooks w");
    query
}

fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &WebhookFilter) {
    query.push(" WHERE 1 = 1");
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", super::escape_like(&search.to_lowercase()));
        query
            .push(" AND (w.name_folded LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR w.url LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    if let Some(status) = filter.status {
        query.push(" AND w.status = ").push_bind(status.as_db());
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND (w.all_events = 1 OR EXISTS (SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event_type = ")
            .push_bind(event_type.clone())
            .push("))");
    }
}

fn decode(row: &SqliteRow) -> Result<Webhook, sqlx::Error> {
    let events = if row.try_get::<bool, _>("all_events")? {
        EventSelection::All
    } else {
        let keys: Option<String> = row.try_get("events")?;
        let mut keys = keys
            .unwrap_or_default()
            .split_whitespace()
            .map(|key| decode_key(key.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort();
        EventSelection::Only(keys)
    };
    let last_delivery_at: Option<i64> = row.try_get("last_delivery_at")?;
    let last_outcome: Option<String> = row.try_get("last_delivery_outcome")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        notification_type: decode_enum(row, "notification_type", NotificationType::from_db)?,
        events,
        status: decode_enum(row, "status", WebhookStatus::from_db)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_delivery: last_delivery_at.map(|at| LastDelivery {
            at,
            succeeded: last_outcome.as_deref() == Some("succeeded"),
        }),
        succeeded_24h: row.try_get::<Option<i64>, _>("succeeded")?.unwrap_or(0),
        failed_24h: row.try_get::<Option<i64>, _>("failed")?.unwrap_or(0),
    })
}

fn decode_enum<T>(
    row: &SqliteRow,
    column: &str,
    from_db: impl Fn(&str) -> Option<T>,
) -> Result<T, sqlx::Error> {
    let value: String = row.try_get(column)?;
    from_db(&value).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unexpected value {value:?}").into(),
    })
}

fn name_taken(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db)
            if db.is_unique_violation() && db.message().contains("webhooks.name_folded") =>
        {
            StoreError::WebhookNameTaken
        }
        _ => StoreError::Database(error),
    }
}
