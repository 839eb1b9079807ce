//! A webhook as the store gives it back, and the row it is read from.

use sqlx::FromRow;

use super::headers::ShownHeader;
use crate::clock::Timestamp;
use crate::db::event_types::decode_key;
use crate::domain::receiver_health::Failing;
use crate::domain::{
    AccountKey, AttemptErrorCode, DeliveryStatus, EventSelection, HeaderRow, NotificationType,
    WebhookStatus,
};

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    /// Whose webhook it is.
    pub account: AccountKey,
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
    /// Tries that failed in a row since the last success.
    pub failed_in_a_row: i64,
    /// Sent with every delivery; secret values are not opened here.
    pub headers: Vec<ShownHeader>,
}

impl Webhook {
    /// The custom headers as form rows: a secret one with no value, which keeps it.
    pub fn header_rows(&self) -> Vec<HeaderRow> {
        self.headers
            .iter()
            .map(|header| HeaderRow {
                name: header.name.clone(),
                value: header.value.clone().unwrap_or_default(),
                secret: header.value.is_none(),
            })
            .collect()
    }

    /// The names of the custom headers whose value is secret.
    pub fn secret_header_names(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|header| header.value.is_none())
            .map(|header| header.name.clone())
            .collect()
    }

    /// Paused at `now` by its receiver's `Retry-After`.
    pub fn paused_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.paused_until.filter(|until| *until > now)
    }
}

#[derive(Debug, Clone)]
pub struct LastDelivery {
    pub at: Timestamp,
    pub succeeded: bool,
}

#[derive(FromRow)]
pub(super) struct WebhookRow {
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
    consecutive_failures: i64,
    custom_headers: String,
    account: AccountKey,
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
        let headers = super::headers::shown(&row.custom_headers)?;
        Ok(Webhook {
            headers,
            id: row.id,
            account: row.account,
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
            failed_in_a_row: row.consecutive_failures,
        })
    }
}
