//! Input parsed into types that are valid by construction. Each `parse` returns the
//! validator crate's `ValidationError` with a message written for the person who typed it,
//! so the HTML form and the JSON API speak with the same words.

mod account;
mod api_key;
mod audit_action;
mod custom_header;
mod data_schema;
mod delivery;
mod delivery_wait;
mod event_body;
mod event_type;
mod label;
mod max_per_second;
mod notification_type;
mod operational;
pub mod paging;
pub mod queue;
pub mod receiver_health;
mod search_term;
mod user;
mod webhook;
mod webhook_name;
mod webhook_url;

pub use account::{AccountKey, MaxWebhooksPerAccount};
pub use api_key::{API_KEY_PATTERN, ApiKey, masked};
pub use audit_action::AuditAction;
pub use custom_header::{
    CustomHeader, CustomHeaders, HeaderRow, HeaderValue, SentHeader, patterns as header_patterns,
};
pub use data_schema::{
    CHECK_STEPS, CheckRefusal, DataSchema, Field, MAX_DATA_DEPTH, Mismatch, nests_deeper_than,
};
pub use delivery::{AttemptErrorCode, DeliveryStatus};
pub use delivery_wait::{DeliveryWait, WaitFacts};
pub use event_body::EventBody;
pub use event_type::{EventSelection, EventTypeKey};
pub use label::{
    Label, NAME_PATTERN, is_format_character, look_alike_key, looks_alike, name_taken_message,
};
pub use max_per_second::MaxPerSecond;
pub use notification_type::NotificationType;
pub use operational::{AboutWebhook, GaveUp, OperationalEvent, Recovery};
pub use search_term::{Matched, Quote, SearchTerm, terms_of};
pub use user::{Email, Password, Role};
pub use webhook::{ApiKeyChange, WebhookDraft, WebhookInput, WebhookStatus};
pub use webhook_name::WebhookName;
pub use webhook_url::{URL_PATTERN, WebhookUrl};

use validator::ValidationError;

fn invalid(code: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(code).with_message(message.into().into())
}
