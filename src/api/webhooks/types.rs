//! What the webhook routes take and answer, as the OpenAPI document describes it.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::webhooks::Webhook;

/// A webhook as the API shows it: never its API key or signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// Subscribed event types, or `["*"]` for all events (including types added later).
    pub events: Vec<String>,
    #[schema(example = "REST")]
    pub notification_type: String,
    /// `active`, `disabled`, or `auto_disabled` (after days of failed deliveries).
    #[schema(example = "active")]
    pub status: String,
    /// RFC 3339, UTC.
    pub created_at: String,
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
    /// 1-based page number.
    pub page: Option<i64>,
}

/// The same fields and rules as the console's Create Webhook form. Missing fields get the
/// form's messages (422), so they are read as empty rather than refused as malformed.
// No `Debug`: it carries an API key.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
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
}

/// Any subset of a webhook's fields; absent fields stay as they are.
// No `Debug`: it carries an API key.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
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

impl From<Webhook> for WebhookBody {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id,
            events: webhook.events.to_input(),
            notification_type: webhook.notification_type.label().to_owned(),
            status: webhook.status.key().to_owned(),
            created_at: webhook.created_at.rfc3339(),
            name: webhook.name,
            url: webhook.url,
        }
    }
}
