//! A delivery as one row of a list.

use super::super::detail_href;
use super::super::view::{Badge, Moment};
use crate::clock::Timestamp;
use crate::db::deliveries::Delivery;

/// A delivery as one row of a list.
pub struct DeliveryRow {
    pub href: String,
    pub id: i64,
    pub webhook_name: String,
    pub webhook_href: String,
    pub event_id: String,
    pub event_type: String,
    pub status: Badge,
    /// "2 of 8" while tries remain, else the number made.
    pub attempts: String,
    /// The last answer: a status code, an error code, or nothing yet.
    pub last_result: String,
    pub last_duration: String,
    /// Why it has not gone out yet, in brief, and in full for its title.
    pub waiting: Option<(String, String)>,
    pub created: Moment,
    /// Where a search's quote matched it, e.g. "event data order.id = ord_7731".
    pub matched: Vec<String>,
}

impl DeliveryRow {
    pub(super) fn new(delivery: Delivery, max_attempts: usize, now: Timestamp) -> Self {
        let waiting = delivery
            .waiting(max_attempts, now)
            .map(|wait| (wait.brief(now), wait.reason()));
        let last = delivery.attempts.last();
        let last_result = match last {
            None => "—".to_owned(),
            Some(attempt) => match (attempt.status_code, attempt.error_code) {
                (Some(code), _) => code.to_string(),
                (None, Some(error)) => error.label().to_owned(),
                (None, None) => "—".to_owned(),
            },
        };
        let retrying = delivery.status.is_retrying(delivery.attempt_count);
        Self {
            href: format!(
                "{}/deliveries/{}",
                detail_href(delivery.webhook_id),
                delivery.id
            ),
            id: delivery.id,
            webhook_href: detail_href(delivery.webhook_id),
            webhook_name: delivery.webhook_name,
            event_id: format!("evt_{}", delivery.event_id),
            event_type: delivery.event_type,
            status: match retrying {
                true => Badge::retrying(),
                false => Badge::delivery(delivery.status),
            },
            attempts: match retrying {
                // The next try is the one after those made.
                true => format!("{} of {max_attempts}", delivery.attempt_count + 1),
                false => delivery.attempt_count.to_string(),
            },
            last_result,
            last_duration: last.map_or("—".to_owned(), |a| duration_label(a.duration_ms)),
            waiting,
            created: Moment::of(delivery.created_at, now),
            matched: Vec::new(),
        }
    }
}

/// A try's duration as read at a glance: "< 1 ms" rather than a misleading "0 ms".
pub fn duration_label(ms: i64) -> String {
    match ms {
        0 => "< 1 ms".to_owned(),
        ms => format!("{ms} ms"),
    }
}
