//! Operational events: what the console itself publishes about its webhooks, so that an
//! admin can point one webhook at a chat or paging relay. Each is about one webhook, and is
//! never delivered to that webhook.

use serde::Serialize;
use serde_json::{Value, json};

use super::{AccountKey, AttemptErrorCode, WebhookStatus};
use crate::clock::Timestamp;

/// The webhook an operational event is about, as its `data` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AboutWebhook {
    pub id: i64,
    pub name: String,
    /// Whose webhook it is: only that account hears of it.
    #[serde(skip)]
    pub account: AccountKey,
}

/// A delivery that gave up, as `delivery.failed` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub attempts: i64,
    /// The last try's failure, in words, and its HTTP status when one came.
    pub reason: String,
    pub status_code: Option<i64>,
}

/// How a webhook left Failing: each closes the alert `webhook.failing` opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// A delivery to it (a probe, or a test event sent as one) succeeded.
    DeliverySucceeded,
    /// An admin pointed it at another address: another receiver, of which nothing is known.
    UrlChanged,
    /// An admin switched it off: nothing is sent, and it starts afresh when switched on.
    SwitchedOff,
}

impl Recovery {
    /// The stable snake_case name, in the event's `reason`.
    pub fn key(self) -> &'static str {
        match self {
            Self::DeliverySucceeded => "delivery_succeeded",
            Self::UrlChanged => "url_changed",
            Self::SwitchedOff => "switched_off",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationalEvent {
    /// Its receiver kept failing: its deliveries wait while probes test it.
    WebhookFailing {
        webhook: AboutWebhook,
        code: AttemptErrorCode,
        reason: String,
        since: Timestamp,
        next_probe_at: Timestamp,
    },
    /// It is no longer Failing, whichever way it left.
    WebhookRecovered {
        webhook: AboutWebhook,
        failing_since: Timestamp,
        at: Timestamp,
        how: Recovery,
    },
    /// Switched off by the system (a 410, or sustained failure), not by an admin.
    WebhookDisabled {
        webhook: AboutWebhook,
        status: WebhookStatus,
        reason: String,
        status_code: Option<i64>,
    },
    DeliveryFailed {
        webhook: AboutWebhook,
        delivery: GaveUp,
    },
}

impl OperationalEvent {
    /// Every operational event type: the console publishes them, nobody else.
    pub const TYPES: [&'static str; 4] = [
        "webhook.failing",
        "webhook.recovered",
        "webhook.disabled",
        "delivery.failed",
    ];

    pub fn event_type(&self) -> &'static str {
        let [failing, recovered, disabled, delivery_failed] = Self::TYPES;
        match self {
            Self::WebhookFailing { .. } => failing,
            Self::WebhookRecovered { .. } => recovered,
            Self::WebhookDisabled { .. } => disabled,
            Self::DeliveryFailed { .. } => delivery_failed,
        }
    }

    /// The webhook it is about, which never receives it.
    pub fn about(&self) -> &AboutWebhook {
        match self {
            Self::WebhookFailing { webhook, .. }
            | Self::WebhookRecovered { webhook, .. }
            | Self::WebhookDisabled { webhook, .. }
            | Self::DeliveryFailed { webhook, .. } => webhook,
        }
    }

    /// The event's `data`, as the catalog's schema for its type describes it.
    pub fn data(&self) -> Value {
        match self {
            Self::WebhookFailing {
                webhook,
                code,
                reason,
                since,
                next_probe_at,
            } => json!({
                "webhook": webhook,
                "reason": reason,
                "error_code": code.key(),
                "failing_since": since.rfc3339(),
                "next_probe_at": next_probe_at.rfc3339(),
            }),
            Self::WebhookRecovered {
                webhook,
                failing_since,
                at,
                how,
            } => json!({
                "webhook": webhook,
                "failing_since": failing_since.rfc3339(),
                "recovered_at": at.rfc3339(),
                "reason": how.key(),
            }),
            Self::WebhookDisabled {
                webhook,
                status,
                reason,
                status_code,
            } => json!({
                "webhook": webhook,
                "status": status.key(),
                "reason": reason,
                "status_code": status_code,
            }),
            Self::DeliveryFailed { webhook, delivery } => json!({
                "webhook": webhook,
                "delivery": {
                    "id": delivery.id,
                    "event_id": format!("evt_{}", delivery.event_id),
                    "event_type": delivery.event_type,
                    "attempts": delivery.attempts,
                },
                "reason": delivery.reason,
                "status_code": delivery.status_code,
            }),
        }
    }
}
