//! Reading webhooks: one with its counts, the filtered list, names, and those whose
//! deliveries wait.

use sqlx::{Database, FromRow, QueryBuilder};

use super::stored::WebhookRow;
use super::{COUNTED_UP_TO, FAILING_SQL, SUCCESS_RATE_WINDOW, Webhook, WebhookFilter};
use crate::clock::Timestamp;
use crate::db::{Bind, Dialect, Source, StoreError};
use crate::domain::paging::Pager;
use crate::domain::receiver_health::Failing;
use crate::domain::{
    AccountKey, AttemptErrorCode, DeliveryStatus, OperationalEvent, WebhookName, WebhookStatus,
};

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

/// Whose webhook it is, if it exists: what decides an account token's reach.
pub async fn account_of<'a>(
    db: impl Into<Source<'a>>,
    id: i64,
) -> Result<Option<AccountKey>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT account FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(e)
    .await?))
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
    account: &AccountKey,
    name: &WebhookName,
    except: Option<i64>,
) -> Result<Option<String>, StoreError> {
    // `name_folded` too: a row from before look-alike keys whose key was held by another.
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT name FROM webhooks
         WHERE (name_look_alike_key = $1 OR name_folded = $2) AND id IS DISTINCT FROM $3
           AND account = $4
         ORDER BY id LIMIT 1",
    )
    .bind(name.look_alike_key())
    .bind(name.folded())
    .bind(except)
    .bind(account.as_str())
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
                FAILING_SQL
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
                w.failing_code, w.consecutive_failures,
                w.next_probe_at, w.paused_until, w.custom_headers, w.account,
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
    if crate::db::matches_nothing(query, &[&filter.search, &filter.event_type]) {
        return;
    }
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", crate::db::escape_like(&search.to_lowercase()));
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
    if let Some(account) = &filter.account {
        query
            .push(" AND w.account = ")
            .push_bind(account.to_string());
    }
    if filter.failing {
        query.push(format!(" AND {FAILING_SQL}"));
    }
    if let Some(event_type) = &filter.event_type {
        // The console's own events reach only the webhooks that picked them.
        let all_events = match OperationalEvent::TYPES.contains(&event_type.as_str()) {
            true => "false",
            false => "w.all_events",
        };
        query
            .push(format!(" AND ({all_events} OR EXISTS (SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event_type = "))
            .push_bind(event_type.clone())
            .push("))");
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
