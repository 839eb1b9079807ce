//! A webhook's delivery log: newest first, paged, filtered by outcome in the URL.

use serde::Deserialize;

use super::view::Badge;
use crate::clock::Timestamp;
use crate::db::deliveries::{self, Delivery};
use crate::db::{Db, StoreError};
use crate::domain::DeliveryStatus;
use crate::paging::{PAGE_SIZE, Pager};
use crate::web::pagination::Pagination;

/// How far back "Recover failed deliveries" looks unless told otherwise.
const RECOVER_BY_DEFAULT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    status: String,
    page: String,
}

pub struct DeliveryLog {
    pub rows: Vec<DeliveryRow>,
    pub total: i64,
    /// The outcome filter's choices: (key, label, selected).
    pub statuses: Vec<(&'static str, &'static str, bool)>,
    pub filtered: bool,
    pub pagination: Pagination,
    /// What the recovery form offers by default: a day ago.
    pub recover_since: String,
}

pub struct DeliveryRow {
    pub href: String,
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub status: Badge,
    pub attempts: i64,
    /// The last answer: a status code, an error code, or nothing yet.
    pub last_result: String,
    pub last_duration: String,
    pub next_retry: String,
    pub created: String,
}

impl DeliveryLog {
    pub async fn load(
        db: &Db,
        webhook_id: i64,
        query: &LogQuery,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        let status = DeliveryStatus::from_key(query.status.trim());
        let total = deliveries::count_for_webhook(db.reader(), webhook_id, status).await?;
        let pager = Pager::parse(&query.page, PAGE_SIZE).within(total);
        let rows = deliveries::list_for_webhook(db.reader(), webhook_id, status, pager)
            .await?
            .into_iter()
            .map(|delivery| DeliveryRow::new(webhook_id, delivery, now))
            .collect();
        let href = |page: i64| {
            let mut params = url::form_urlencoded::Serializer::new(String::new());
            if let Some(status) = status {
                params.append_pair("status", status.key());
            }
            params.append_pair("page", &page.to_string());
            format!(
                "/settings/webhooks/{webhook_id}?{}#delivery-log",
                params.finish()
            )
        };
        Ok(Self {
            rows,
            total,
            statuses: DeliveryStatus::ALL
                .into_iter()
                .map(|s| (s.key(), s.label(), Some(s) == status))
                .collect(),
            filtered: status.is_some(),
            pagination: Pagination::new(pager, total, href),
            recover_since: now.minus(RECOVER_BY_DEFAULT).utc_minutes(),
        })
    }
}

impl DeliveryRow {
    fn new(webhook_id: i64, delivery: Delivery, now: Timestamp) -> Self {
        let last = delivery.attempts.last();
        let last_result = match last {
            None => "—".to_owned(),
            Some(attempt) => match (attempt.status_code, attempt.error_code) {
                (Some(code), _) => code.to_string(),
                (None, Some(error)) => error.key().to_owned(),
                (None, None) => "—".to_owned(),
            },
        };
        Self {
            href: format!("/settings/webhooks/{webhook_id}/deliveries/{}", delivery.id),
            id: delivery.id,
            event_id: format!("evt_{}", delivery.event_id),
            event_type: delivery.event_type,
            status: Badge::delivery(delivery.status),
            attempts: delivery.attempt_count,
            last_result,
            last_duration: last.map_or("—".to_owned(), |a| format!("{} ms", a.duration_ms)),
            next_retry: match (delivery.status, delivery.next_attempt_at) {
                (DeliveryStatus::Pending, Some(at)) if delivery.attempt_count > 0 => at.absolute(),
                _ => "—".to_owned(),
            },
            created: delivery.created_at.relative_to(now),
        }
    }
}
