//! How webhook values read on screen, shared by the list and the detail page.

use super::detail_href;
use crate::clock::Timestamp;
use crate::db::webhooks::{self, COUNTED_UP_TO, LastDelivery, Webhook};
use crate::db::{Db, StoreError};
use crate::domain::receiver_health::Failing;
use crate::domain::{ApiKey, DeliveryStatus, EventSelection, WebhookStatus, masked};
use crate::secrets::secret_box::SecretBox;

/// A status as a badge: its words and the CSS modifier that colours it.
#[derive(Debug, Clone)]
pub struct Badge {
    pub label: &'static str,
    pub class: &'static str,
}

impl Badge {
    /// Pending after a failed try: another comes at its time.
    pub fn retrying() -> Self {
        Self {
            label: "Retrying",
            class: "badge-retrying",
        }
    }

    pub fn delivery(status: DeliveryStatus) -> Self {
        let class = match status {
            DeliveryStatus::Pending => "badge-pending",
            DeliveryStatus::Succeeded => "badge-active",
            DeliveryStatus::Failed => "badge-failed",
        };
        Self {
            label: status.label(),
            class,
        }
    }

    /// The webhook's status, or Failing while it is active and its receiver keeps failing.
    pub fn webhook(webhook: &Webhook) -> Self {
        if webhook.status.is_active() && webhook.failing.is_some() {
            return Self {
                label: "Failing",
                class: "badge-failed",
            };
        }
        Self::status(webhook.status)
    }

    pub fn status(status: WebhookStatus) -> Self {
        let class = match status {
            WebhookStatus::Active => "badge-active",
            WebhookStatus::Disabled => "badge-disabled",
            WebhookStatus::AutoDisabled => "badge-auto-disabled",
        };
        Self {
            label: status.label(),
            class,
        }
    }
}

/// How a delivery ended, and how long ago (the exact time on hover).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub succeeded: bool,
    pub when: Moment,
}

impl Outcome {
    pub fn of(last: &LastDelivery, now: Timestamp) -> Self {
        Self {
            succeeded: last.succeeded,
            when: Moment::of(last.at, now),
        }
    }
}

/// A time shown as people glance at it, "5 min ago", with the exact UTC time kept for the
/// `<time>` element's hover title and machine-readable value.
#[derive(Debug, Clone)]
pub struct Moment {
    pub relative: String,
    pub exact: String,
    pub rfc3339: String,
}

impl Moment {
    pub fn of(at: Timestamp, now: Timestamp) -> Self {
        Self {
            relative: if at > now {
                at.ahead_of(now)
            } else {
                at.relative_to(now)
            },
            exact: at.absolute_seconds(),
            rfc3339: at.rfc3339(),
        }
    }
}

/// A webhook's deliveries still to send and those that ran out of retries, as the list
/// shows them: "12 pending", "1000+ failed", nothing for none.
#[derive(Debug, Clone)]
pub struct Backlog {
    pub pending: Option<String>,
    pub failed: Option<String>,
}

impl Backlog {
    pub fn of(webhook: &Webhook) -> Self {
        let counted = |count: i64, word: &str| match count {
            0 => None,
            n if n > COUNTED_UP_TO => Some(format!("{COUNTED_UP_TO}+ {word}")),
            n => Some(format!("{n} {word}")),
        };
        Self {
            pending: counted(webhook.pending, "pending"),
            failed: counted(webhook.failed, "failed"),
        }
    }
}

/// Why the webhook is off, when the system switched it off ("Auto-disabled: every delivery
/// failed for 5days"), or, in brief for the list, why deliveries to it wait.
pub fn status_reason(webhook: &Webhook, now: Timestamp) -> Option<String> {
    if !webhook.status.is_active() {
        let reason = webhook.status_reason.as_deref()?;
        return Some(format!("{}: {reason}", webhook.status.label()));
    }
    if let Some(failing) = &webhook.failing {
        // The failure's first clause ("Connection refused by 10.0.0.5:443"); its page says
        // the rest.
        let reason = ["; ", ": ", ". "]
            .iter()
            .filter_map(|mark| failing.reason.find(mark))
            .min()
            .map_or(failing.reason.as_str(), |end| &failing.reason[..end])
            .trim_end_matches('.');
        return Some(format!(
            "Since {}: {reason}. Next probe {}.",
            failing.since.relative_to(now),
            failing.next_probe_at.ahead_of(now)
        ));
    }
    paused_note(webhook, now)
}

/// Why deliveries to this active webhook wait, in full, for its page: it is Failing (with
/// its newest failed try, `last_failed`, to read), or else rate limited by its receiver.
pub fn waiting_reason(webhook: &Webhook, last_failed: Option<i64>, now: Timestamp) -> Waiting {
    match &webhook.failing {
        Some(failing) => Waiting::Failing {
            note: failing_note(failing, webhook.failed_in_a_row, now),
            last_failed: last_failed
                .map(|delivery| format!("{}/deliveries/{delivery}", detail_href(webhook.id))),
        },
        None => paused_note(webhook, now).map_or(Waiting::No, Waiting::Paused),
    }
}

pub enum Waiting {
    No,
    Failing {
        note: String,
        /// The page of the newest delivery whose try failed.
        last_failed: Option<String>,
    },
    Paused(String),
}

fn paused_note(webhook: &Webhook, now: Timestamp) -> Option<String> {
    webhook.paused_at(now).map(|until| {
        format!(
            "Rate limited by the receiver until {}.",
            until.absolute_seconds()
        )
    })
}

/// "7 tries in a row failed since 27 Nov 2026, 14:05 UTC (5 min ago). Last failure: No
/// answer within the delivery timeout. Next probe in 20 s."
fn failing_note(failing: &Failing, tries: i64, now: Timestamp) -> String {
    let reason = failing.reason.trim_end_matches('.');
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(" Last failure: {reason}.")
    };
    format!(
        "{tries} tries in a row failed; Failing since {} ({}).{reason} Next probe {}.",
        failing.since.absolute(),
        failing.since.relative_to(now),
        failing.next_probe_at.ahead_of(now),
    )
}

/// The API key as this viewer may see it: masked for admins; support staff learn only that
/// one is set, not a single character of it.
pub fn shown_api_key(key: Option<ApiKey>, admin: bool) -> Option<String> {
    key.map(|key| {
        if admin {
            key.masked()
        } else {
            "Set".to_owned()
        }
    })
}

/// The custom headers as this viewer may see them: secret values masked for admins (opened
/// only for that); support staff learn only that one is set.
pub async fn shown_headers(
    db: &Db,
    secrets: &SecretBox,
    webhook: &Webhook,
    admin: bool,
) -> Result<Vec<(String, String)>, StoreError> {
    if !admin {
        return Ok(webhook
            .headers
            .iter()
            .map(|header| {
                let value = header.value.clone().unwrap_or_else(|| "Set".to_owned());
                (header.name.clone(), value)
            })
            .collect());
    }
    Ok(webhooks::custom_headers(db.reader(), secrets, webhook.id)
        .await?
        .into_iter()
        .map(|header| {
            let value = match header.secret {
                true => masked(&header.value),
                false => header.value,
            };
            (header.name, value)
        })
        .collect())
}

pub fn event_keys(events: &EventSelection) -> Vec<String> {
    match events {
        EventSelection::All => Vec::new(),
        EventSelection::Only(keys) => keys.iter().map(ToString::to_string).collect(),
    }
}

/// The share of deliveries that succeeded, "—" when there were none. Only all or none
/// read as "100%" or "0%": one failure in thousands still shows as "99.9%".
pub fn success_rate(succeeded: i64, failed: i64) -> String {
    let total = succeeded + failed;
    match (succeeded, failed) {
        (0, 0) => "—".to_owned(),
        (_, 0) => "100%".to_owned(),
        (0, _) => "0%".to_owned(),
        _ => {
            let percent = (succeeded as f64 * 100.0 / total as f64).clamp(0.1, 99.9);
            format!("{percent:.1}%")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rates_read_as_percentages() {
        assert_eq!(success_rate(0, 0), "—");
        assert_eq!(success_rate(10, 0), "100%");
        assert_eq!(success_rate(1, 2), "33.3%");
        assert_eq!(success_rate(0, 4), "0%");
        assert_eq!(success_rate(9_999, 1), "99.9%");
        assert_eq!(success_rate(1, 9_999), "0.1%");
    }
}
