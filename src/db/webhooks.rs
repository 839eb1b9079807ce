use std::time::Duration;

use sqlx::{Database, FromRow, QueryBuilder};

use super::delivery_queue::Failing;
use super::{Bind, Dialect, Source, StoreError, WriteTx, event_types::decode_key};
use crate::clock::Timestamp;
use crate::domain::paging::Pager;
use crate::domain::{
    ApiKeyChange, AttemptErrorCode, DeliveryStatus, EventSelection, NotificationType, WebhookDraft,
    WebhookName, WebhookStatus,
};
use crate::secrets::secret_box::{Purpose, SecretBox};

pub(in crate::db) mod secrets;

pub use secrets::{
    SigningSecrets, api_key, backfill_signing_secrets, rotate_signing_secret, signing_secret,
    signing_secrets,
};
use secrets::{new_signing_secret, seal_api_key};

/// The window of the list's success rate.
const SUCCESS_RATE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub notification_type: NotificationType,
    pub events: EventSelection,
    pub status: WebhookStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_delivery: Option<LastDelivery>,
    pub succeeded_24h: i64,
    pub failed_24h: i64,
    /// Why the system switched it off, while it stays off.
    pub status_reason: Option<String>,
    /// Deliveries waiting to be sent or retried, counted up to [`COUNTED_UP_TO`] + 1.
    pub pending: i64,
    /// Deliveries that ran out of retries, counted up to [`COUNTED_UP_TO`] + 1.
    pub failed: i64,
    pub max_per_second: Option<i64>,
    /// Set while its receiver keeps failing and deliveries wait for a probe.
    pub failing: Option<Failing>,
    /// The receiver asked (`Retry-After`) to be sent nothing before this.
    pub paused_until: Option<Timestamp>,
    /// Tries that failed in a row, whatever the cause, since the last success.
    pub failure_streak: Option<FailureStreak>,
}

/// Tries that failed in a row: how many, since when, and the last answer (a status code or
/// an error code's key).
#[derive(Debug, Clone)]
pub struct FailureStreak {
    pub tries: i64,
    pub since: Timestamp,
    pub last_answer: String,
}

impl Webhook {
    /// Its failure streak, once long enough ([`FAILING_AFTER`] tries) to call it Failing.
    pub fn failing_streak(&self) -> Option<&FailureStreak> {
        self.failure_streak
            .as_ref()
            .filter(|streak| streak.tries >= FAILING_AFTER)
    }

    /// Paused at `now` by its receiver's `Retry-After`.
    pub fn paused_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.paused_until.filter(|until| *until > now)
    }
}

/// The list counts a webhook's pending and failed deliveries this far ("1000+" beyond), so
/// a backlog of millions costs no more to show than a short one.
pub const COUNTED_UP_TO: i64 = 1000;

#[derive(Debug, Clone)]
pub struct LastDelivery {
    pub at: Timestamp,
    pub succeeded: bool,
}

#[derive(Debug, Default, Clone)]
pub struct WebhookFilter {
    /// Part of the name (any case) or of the URL.
    pub search: Option<String>,
    pub status: Option<WebhookStatus>,
    pub event_type: Option<String>,
    /// Only active webhooks that are Failing.
    pub failing: bool,
    /// Failing first, then auto-disabled, paused, healthy and disabled; by name within.
    pub by_health: bool,
}

/// Tries failed in a row after which an active webhook is Failing (whatever the cause), and
/// receiver failures in a row that open its circuit: enough that a blip (one restart, one
/// slow request) does not, few enough that a dead receiver is found within seconds.
pub const FAILING_AFTER: i64 = 5;

/// An active webhook that is Failing: its circuit is open or its last tries all failed.
fn failing_sql() -> String {
    format!(
        "(w.status = 'active' AND (w.failing_since IS NOT NULL OR w.failed_in_a_row >= {FAILING_AFTER}))"
    )
}

/// A new webhook with an id never used before, even by a deleted one.
pub async fn create(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    draft: &WebhookDraft,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let api_key = match &draft.api_key {
        ApiKeyChange::Set(key) => Some(seal_api_key(secrets, key)),
        ApiKeyChange::Keep | ApiKeyChange::Remove => None,
    };
    let signing_secret = secrets.seal(Purpose::SigningSecret, &new_signing_secret());
    refuse_look_alike(tx, &draft.name, None).await?;
    let id: i64 = on_tx!(&mut *tx, |e| {
        let id = sqlx::query_scalar(
            "UPDATE webhook_ids SET last_id = last_id + 1 WHERE only_row = 1 RETURNING last_id",
        )
        .fetch_one(&mut *e)
        .await?;
        sqlx::query(
            "INSERT INTO webhooks (id, name, name_folded, name_look_alike_key, url,
                                   notification_type, all_events, api_key, signing_secret,
                                   status, created_at, updated_at, max_per_second)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10, $11)",
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
    refuse_look_alike(tx, &draft.name, Some(id)).await?;
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
            .push(", updated_at = ")
            .push_bind(now);
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

/// What the engine learnt of a webhook's receiver, each column with its value for a
/// receiver it knows nothing of.
const RECEIVER_STATE: [(&str, &str); 9] = [
    ("consecutive_failures", "0"),
    ("failed_in_a_row", "0"),
    ("failed_in_a_row_since", "NULL"),
    ("last_failure", "NULL"),
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
    let forget: Vec<String> = RECEIVER_STATE
        .iter()
        .map(|(column, fresh)| format!("{column} = {fresh}"))
        .collect();
    on_tx!(tx, |e| sqlx::query_scalar(&format!(
        "UPDATE webhooks SET status = $1, status_reason = $2, updated_at = $3, {}
         WHERE id = $4 RETURNING name",
        forget.join(", ")
    ))
    .bind(status)
    .bind(reason)
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
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

/// The webhook with its last delivery and its counts over the day before `now`.
pub async fn find<'a>(
    db: impl Into<Source<'a>>,
    id: i64,
    now: Timestamp,
) -> Result<Webhook, StoreError> {
    let row: Option<WebhookRow> = on_read!(db, |e| {
        let mut query = select_webhooks(now);
        query.push(" WHERE w.id = ").push_bind(id);
        query.build_query_as().fetch_optional(e).await?
    });
    row.map(Webhook::try_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// `NotFound` unless the webhook exists: a cheap check where none of it is shown.
pub async fn ensure_exists<'a>(db: impl Into<Source<'a>>, id: i64) -> Result<(), StoreError> {
    let found: Option<i64> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT id FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(e)
    .await?);
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// The name of another webhook (not `except`) whose name looks like this one: the same
/// whatever the case, or the same to the eye (see [`WebhookName::look_alike_key`]).
pub async fn look_alike<'a>(
    db: impl Into<Source<'a>>,
    name: &WebhookName,
    except: Option<i64>,
) -> Result<Option<String>, StoreError> {
    // `name_folded` too: a row from before look-alike keys whose key was held by another.
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT name FROM webhooks
         WHERE (name_look_alike_key = $1 OR name_folded = $2) AND id IS DISTINCT FROM $3
         ORDER BY id LIMIT 1",
    )
    .bind(name.look_alike_key())
    .bind(name.folded())
    .bind(except)
    .fetch_optional(e)
    .await?))
}

/// Every webhook's id and name, by name: the choices of a webhook filter. At most 1,000;
/// beyond that the filter still takes any id in its URL.
pub async fn names<'a>(db: impl Into<Source<'a>>) -> Result<Vec<(i64, String)>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(
        "SELECT id, name FROM webhooks ORDER BY name_folded, id LIMIT 1000"
    )
    .fetch_all(e)
    .await?))
}

/// Checked inside the write so the message can name the webhook it collides with; the
/// unique index still refuses a look-alike committed by another node meanwhile.
async fn refuse_look_alike(
    tx: &mut WriteTx,
    name: &WebhookName,
    except: Option<i64>,
) -> Result<(), StoreError> {
    match look_alike(tx, name, except).await? {
        Some(existing) => Err(StoreError::WebhookNameTaken { existing }),
        None => Ok(()),
    }
}

/// Tries of one hour, as the detail page's chart shows them.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct HourlyOutcomes {
    pub hour_start: Timestamp,
    pub succeeded: i64,
    pub failed: i64,
}

/// The hours since `since` that saw tries of this webhook's deliveries, oldest first.
pub async fn hourly_outcomes<'a>(
    db: impl Into<Source<'a>>,
    id: i64,
    since: Timestamp,
) -> Result<Vec<HourlyOutcomes>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(
        "SELECT hour_start, succeeded, failed FROM webhook_hourly_stats
         WHERE webhook_id = $1 AND hour_start >= $2 ORDER BY hour_start",
    )
    .bind(id)
    .bind(since.start_of_hour())
    .fetch_all(e)
    .await?))
}

pub async fn count<'a>(
    db: impl Into<Source<'a>>,
    filter: &WebhookFilter,
) -> Result<i64, StoreError> {
    on_read!(db, |e, d| {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM webhooks w");
        push_filter(&mut query, d, filter);
        Ok(query.build_query_scalar().fetch_one(e).await?)
    })
}

/// One page of webhooks in name order.
pub async fn list<'a>(
    db: impl Into<Source<'a>>,
    filter: &WebhookFilter,
    page: Pager,
    now: Timestamp,
) -> Result<Vec<Webhook>, StoreError> {
    let rows: Vec<WebhookRow> = on_read!(db, |e, d| {
        let mut query = select_webhooks(now);
        push_filter(&mut query, d, filter);
        if filter.by_health {
            query.push(format!(
                " ORDER BY CASE WHEN {} THEN 0 WHEN w.status = 'auto_disabled' THEN 1
                                WHEN w.status = 'active' AND w.paused_until IS NOT NULL THEN 2
                                WHEN w.status = 'active' THEN 3 ELSE 4 END,",
                failing_sql()
            ));
        } else {
            query.push(" ORDER BY");
        }
        query
            .push(" w.name_folded, w.id LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        query.build_query_as().fetch_all(e).await?
    });
    Ok(rows
        .into_iter()
        .map(Webhook::try_from)
        .collect::<Result<_, _>>()?)
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

fn select_webhooks<'q, DB: Database>(now: Timestamp) -> QueryBuilder<'q, DB>
where
    i64: Bind<'q, DB>,
    Timestamp: Bind<'q, DB>,
    DeliveryStatus: Bind<'q, DB>,
{
    let window_start = now.minus(SUCCESS_RATE_WINDOW).start_of_hour();
    let mut query = QueryBuilder::new(
        "SELECT w.id, w.name, w.url, w.notification_type, w.all_events, w.status,
                w.created_at, w.updated_at, w.last_delivery_at, w.last_delivery_outcome,
                w.status_reason, w.max_per_second, w.failing_since, w.failing_reason,
                w.failing_code, w.failed_in_a_row, w.failed_in_a_row_since, w.last_failure,
                w.next_probe_at, w.paused_until,
                (SELECT string_agg(e.event_type, ' ') FROM webhook_events e
                  WHERE e.webhook_id = w.id) AS events,
                (SELECT CAST(SUM(s.succeeded) AS BIGINT) FROM webhook_hourly_stats s
                  WHERE s.webhook_id = w.id AND s.hour_start >= ",
    );
    query.push_bind(window_start).push(
        ") AS succeeded,
                (SELECT CAST(SUM(s.failed) AS BIGINT) FROM webhook_hourly_stats s
                  WHERE s.webhook_id = w.id AND s.hour_start >= ",
    );
    query.push_bind(window_start).push(") AS failed_attempts");
    for status in [DeliveryStatus::Pending, DeliveryStatus::Failed] {
        query
            .push(
                ", (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries d
                     WHERE d.webhook_id = w.id AND d.status = ",
            )
            .push_bind(status)
            .push(" LIMIT ")
            .push_bind(COUNTED_UP_TO + 1)
            .push(format!(") AS counted) AS {}", status.key()));
    }
    query.push(" FROM webhooks w");
    query
}

fn push_filter<'q, DB: Database>(
    query: &mut QueryBuilder<'q, DB>,
    dialect: Dialect,
    filter: &WebhookFilter,
) where
    String: Bind<'q, DB>,
    WebhookStatus: Bind<'q, DB>,
{
    query.push(" WHERE 1 = 1");
    if super::matches_nothing(query, &[&filter.search, &filter.event_type]) {
        return;
    }
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", super::escape_like(&search.to_lowercase()));
        query
            .push(" AND (w.name_folded LIKE ")
            .push_bind(pattern.clone())
            .push(format!(" ESCAPE '\\' OR w.url {} ", dialect.like()))
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    if let Some(status) = filter.status {
        query.push(" AND w.status = ").push_bind(status);
    }
    if filter.failing {
        query.push(format!(" AND {}", failing_sql()));
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND (w.all_events OR EXISTS (SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event_type = ")
            .push_bind(event_type.clone())
            .push("))");
    }
}

#[derive(FromRow)]
struct WebhookRow {
    id: i64,
    name: String,
    url: String,
    notification_type: NotificationType,
    all_events: bool,
    /// The subscribed keys, space-separated, unless `all_events`.
    events: Option<String>,
    status: WebhookStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_delivery_at: Option<Timestamp>,
    last_delivery_outcome: Option<DeliveryStatus>,
    succeeded: Option<i64>,
    failed_attempts: Option<i64>,
    status_reason: Option<String>,
    pending: i64,
    failed: i64,
    max_per_second: Option<i64>,
    failing_since: Option<Timestamp>,
    failing_reason: Option<String>,
    failing_code: Option<AttemptErrorCode>,
    next_probe_at: Option<Timestamp>,
    paused_until: Option<Timestamp>,
    failed_in_a_row: i64,
    failed_in_a_row_since: Option<Timestamp>,
    last_failure: Option<String>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = sqlx::Error;

    fn try_from(row: WebhookRow) -> Result<Self, sqlx::Error> {
        let events = if row.all_events {
            EventSelection::All
        } else {
            let mut keys = row
                .events
                .unwrap_or_default()
                .split_whitespace()
                .map(|key| decode_key(key.to_owned()))
                .collect::<Result<Vec<_>, _>>()?;
            keys.sort();
            EventSelection::Only(keys)
        };
        Ok(Webhook {
            id: row.id,
            name: row.name,
            url: row.url,
            notification_type: row.notification_type,
            events,
            status: row.status,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_delivery: row.last_delivery_at.map(|at| LastDelivery {
                at,
                succeeded: row.last_delivery_outcome == Some(DeliveryStatus::Succeeded),
            }),
            succeeded_24h: row.succeeded.unwrap_or(0),
            failed_24h: row.failed_attempts.unwrap_or(0),
            status_reason: row.status_reason,
            pending: row.pending,
            failed: row.failed,
            max_per_second: row.max_per_second,
            failing: row.failing_since.map(|since| Failing {
                since,
                code: row.failing_code.unwrap_or(AttemptErrorCode::Connect),
                reason: row.failing_reason.unwrap_or_default(),
                next_probe_at: row.next_probe_at.unwrap_or(since),
            }),
            paused_until: row.paused_until,
            failure_streak: row
                .failed_in_a_row_since
                .filter(|_| row.failed_in_a_row > 0)
                .map(|since| FailureStreak {
                    tries: row.failed_in_a_row,
                    since,
                    last_answer: row.last_failure.unwrap_or_default(),
                }),
        })
    }
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

/// An active webhook whose deliveries wait: Failing, or paused by its receiver.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub id: i64,
    pub failing: Option<Failing>,
    pub paused_until: Option<Timestamp>,
}

/// Every active webhook that is Failing or paused at `now`, by id.
pub async fn waiting<'a>(
    db: impl Into<Source<'a>>,
    now: Timestamp,
) -> Result<Vec<Waiting>, StoreError> {
    type Row = (
        i64,
        Option<Timestamp>,
        Option<AttemptErrorCode>,
        Option<String>,
        Option<Timestamp>,
        Option<Timestamp>,
    );
    let rows: Vec<Row> = on_read!(db, |e| sqlx::query_as(
        "SELECT id, failing_since, failing_code, failing_reason, next_probe_at, paused_until
         FROM webhooks
         WHERE status = 'active' AND (failing_since IS NOT NULL OR paused_until > $1)
         ORDER BY id",
    )
    .bind(now)
    .fetch_all(e)
    .await?);
    Ok(rows
        .into_iter()
        .map(
            |(id, since, code, reason, next_probe_at, paused_until)| Waiting {
                id,
                failing: since.map(|since| Failing {
                    since,
                    code: code.unwrap_or(AttemptErrorCode::Connect),
                    reason: reason.unwrap_or_default(),
                    next_probe_at: next_probe_at.unwrap_or(since),
                }),
                paused_until: paused_until.filter(|until| *until > now),
            },
        )
        .collect())
}
