//! What the webhook routes take and answer, as the OpenAPI document describes it.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use std::collections::BTreeMap;

use actix_web::http::StatusCode;

use crate::api::error::ApiError;
use crate::db::webhooks::Webhook;
use crate::domain::HeaderRow;

/// A webhook as the API shows it: never its API key or signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: i64,
    /// The account it belongs to (`default` unless one was named).
    #[schema(example = "default")]
    pub account: String,
    pub name: String,
    pub url: String,
    /// Subscribed event types, or `["*"]` for all events (including types added later).
    pub events: Vec<String>,
    #[schema(example = "REST")]
    pub notification_type: String,
    /// `active`, `disabled`, or `auto_disabled` (after days of failed deliveries).
    #[schema(example = "active")]
    pub status: String,
    /// How its receiver stands: `healthy`; `failing` (its last 5 or more tries failed; when
    /// the receiver itself fails, the rest wait while one probe at a time tests it, see
    /// `next_probe_at`); or `paused` (the receiver asked,
    /// with `Retry-After`, for nothing until `paused_until`).
    #[schema(example = "healthy")]
    pub health: String,
    /// Since when it is failing (RFC 3339, UTC), while it is.
    pub failing_since: Option<String>,
    /// The last failure, in words, while it is failing.
    pub failing_reason: Option<String>,
    /// When the next probe is due, while it is failing.
    pub next_probe_at: Option<String>,
    /// Nothing is sent before this, at the receiver's request.
    pub paused_until: Option<String>,
    /// Deliveries sent per second at most; `null`: no cap.
    pub max_per_second: Option<i64>,
    /// Custom headers sent with every delivery, by name; a secret value shows only as
    /// `{"secret": true}`.
    #[schema(example = json!({"X-Tenant": "acme", "Authorization": {"secret": true}}))]
    pub headers: BTreeMap<String, HeaderShown>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A custom header's value as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum HeaderShown {
    Plain(String),
    /// Always `true`: the value is sealed and never shown.
    Secret {
        secret: bool,
    },
}

/// A custom header's value as the API takes it: text, or `{"value": …, "secret": true}` for
/// a value sealed at rest and never shown again. On PATCH, `{"secret": true}` without a
/// value keeps the stored secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(
    untagged,
    expecting = "give each header's value as text, or as {\"value\": \"…\", \"secret\": true} with no other keys"
)]
pub enum HeaderGiven {
    Plain(String),
    Marked(MarkedValue),
}

/// `{"value": …, "secret": true}`; any other key is a typo, refused rather than ignored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkedValue {
    pub value: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

/// The rows the form would hold for these headers. A name is taken as written: the form's
/// leniency (blank rows skipped, spaces trimmed) is for people typing, not for programs.
pub fn header_rows(headers: BTreeMap<String, HeaderGiven>) -> Result<Vec<HeaderRow>, ApiError> {
    if let Some(name) = headers
        .keys()
        .find(|name| name.is_empty() || name.trim() != *name)
    {
        let message = format!(
            "“{name}” is not a header name: use letters, digits and dashes, like X-Tenant."
        );
        let fields = [("headers".to_owned(), vec![message.clone()])].into();
        return Err(ApiError::validation(
            StatusCode::UNPROCESSABLE_ENTITY,
            &message,
            fields,
        ));
    }
    Ok(headers
        .into_iter()
        .map(|(name, given)| match given {
            HeaderGiven::Plain(value) => HeaderRow {
                name,
                value,
                secret: false,
            },
            HeaderGiven::Marked(MarkedValue { value, secret }) => HeaderRow {
                name,
                value: value.unwrap_or_default(),
                secret,
            },
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub data: Vec<WebhookBody>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of the name (any case) or of the URL.
    pub q: Option<String>,
    /// This account's webhooks alone (an account token: its own, always).
    pub account: Option<String>,
    /// 1-based page number.
    pub page: Option<i64>,
}

/// The same fields and rules as the console's Create Webhook form. Missing fields get the
/// form's messages (422), so they are read as empty rather than refused as malformed.
// No `Debug`: it carries an API key.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateWebhook {
    /// 1–100 characters, unique ignoring case.
    #[schema(required = true, example = "CRM order sync", max_length = 100)]
    pub name: String,
    /// Absolute http or https URL, at most 2048 characters, no user:password, no fragment.
    #[schema(
        required = true,
        example = "https://crm.example.com/webhooks",
        max_length = 2048
    )]
    pub url: String,
    /// Event type keys from the catalog, or `["*"]` for all events. At least one.
    #[schema(required = true, example = json!(["order.purchased"]), min_items = 1)]
    pub events: Vec<String>,
    /// `REST` (the default; the only type today).
    #[schema(pattern = r"^\s*[Rr][Ee][Ss][Tt]\s*$")]
    pub notification_type: Option<String>,
    /// Sent as `X-API-Key` with every delivery; at most 512 printable characters, no whitespace.
    #[schema(max_length = 512)]
    pub api_key: Option<String>,
    /// Deliveries sent per second at most, 1–10000; absent or `null`: no cap.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub max_per_second: Option<serde_json::Value>,
    /// Custom headers sent with every delivery, at most 20, by name. Reserved names
    /// (`webhook-*`, `content-type`, `content-length`, `host`, `user-agent`, `x-api-key`,
    /// `transfer-encoding`, `connection`, …) are refused.
    #[schema(example = json!({"X-Tenant": "acme", "Authorization": {"value": "Bearer abc", "secret": true}}))]
    pub headers: Option<BTreeMap<String, HeaderGiven>>,
    /// Whose webhook it is (an account's key); absent: the token's own account (`default`
    /// for a staff token).
    #[schema(example = "acme")]
    pub account: Option<String>,
}

/// Any subset of a webhook's fields; absent fields stay as they are.
// No `Debug`: it carries an API key.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateWebhook {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
    #[schema(pattern = r"^\s*[Rr][Ee][Ss][Tt]\s*$")]
    pub notification_type: Option<String>,
    /// A new key; `null` removes the stored one.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 512)]
    pub api_key: Option<Option<String>>,
    /// A new cap, 1–10000; `null` removes it.
    #[serde(deserialize_with = "present_value")]
    #[schema(value_type = Option<u32>, nullable, minimum = 1, maximum = 10000)]
    pub max_per_second: Option<Option<serde_json::Value>>,
    /// Replaces the custom headers; `{}` removes them all.
    pub headers: Option<BTreeMap<String, HeaderGiven>>,
    pub status: Option<StatusChoice>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChoice {
    Active,
    Disabled,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretBody {
    /// The Standard Webhooks signing secret, `whsec_…`.
    pub secret: String,
}

/// Tells `"api_key": null` (remove) apart from a missing `api_key` (keep).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Tells `"max_per_second": null` (remove) apart from a missing field (keep).
fn present_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Option::<serde_json::Value>::deserialize(deserializer).map(Some)
}

/// A cap as the form's field would hold it: the same parsing, the same messages.
pub fn cap_as_text(value: Option<serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text,
        // JSON does not tell 25 from 25.0: both are the whole number 25.
        Some(serde_json::Value::Number(number))
            if number
                .as_f64()
                .is_some_and(|n| n.fract() == 0.0 && n.abs() < 1e15) =>
        {
            format!("{:.0}", number.as_f64().unwrap_or_default())
        }
        Some(other) => other.to_string(),
    }
}

impl WebhookBody {
    /// The webhook as the API shows it at `now` (a pause that has ended is not shown).
    pub fn new(webhook: Webhook, now: crate::clock::Timestamp) -> Self {
        let paused_until = webhook.paused_at(now);
        let health = match (&webhook.failing, paused_until) {
            (Some(_), _) => "failing",
            (None, Some(_)) => "paused",
            (None, None) => "healthy",
        };
        Self {
            health: health.to_owned(),
            failing_since: webhook.failing.as_ref().map(|f| f.since.rfc3339()),
            failing_reason: webhook.failing.as_ref().map(|f| f.reason.clone()),
            next_probe_at: webhook.failing.as_ref().map(|f| f.next_probe_at.rfc3339()),
            paused_until: paused_until.map(|until| until.rfc3339()),
            max_per_second: webhook.max_per_second,
            headers: webhook
                .headers
                .iter()
                .map(|header| {
                    let shown = match &header.value {
                        Some(value) => HeaderShown::Plain(value.clone()),
                        None => HeaderShown::Secret { secret: true },
                    };
                    (header.name.clone(), shown)
                })
                .collect(),
            id: webhook.id,
            account: webhook.account.to_string(),
            events: webhook.events.to_input(),
            notification_type: webhook.notification_type.label().to_owned(),
            status: webhook.status.key().to_owned(),
            created_at: webhook.created_at.rfc3339(),
            name: webhook.name,
            url: webhook.url,
        }
    }
}
