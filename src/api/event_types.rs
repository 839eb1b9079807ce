use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::actions;
use crate::db::event_types::{self, EventType};
use crate::db::{Db, StoreError};
use crate::domain::{EventTypeKey, Label};

/// Group names and descriptions are labels: short.
const MAX_LABEL_CHARS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeBody {
    #[schema(example = "order.purchased")]
    pub key: String,
    #[schema(example = "Purchase")]
    pub group: String,
    pub description: String,
    /// The `data` of the example body in the Event Catalog.
    pub example: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub data: Vec<EventTypeBody>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RegisterEventType {
    /// `group.name` in lower case, e.g. `invoice.paid`.
    #[schema(
        required = true,
        example = "invoice.paid",
        max_length = 100,
        pattern = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
    )]
    pub key: String,
    #[schema(required = true, example = "Billing", max_length = 200)]
    pub group: String,
    #[schema(required = true, max_length = 200)]
    pub description: String,
    /// Example `data`; `{}` when omitted.
    pub example: Option<serde_json::Value>,
}

#[utoipa::path(
    get, path = "/api/v1/event-types", operation_id = "listEventTypes", tag = "event types",
    responses((status = 200, body = EventTypeList), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(_caller: Caller, db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    let data = event_types::list(db.reader())
        .await?
        .into_iter()
        .map(EventTypeBody::from)
        .collect();
    Ok(HttpResponse::Ok().json(EventTypeList { data }))
}

#[utoipa::path(
    post, path = "/api/v1/event-types", operation_id = "registerEventType", tag = "event types",
    request_body = RegisterEventType,
    responses(
        (status = 201, body = EventTypeBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "The key exists", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn register(
    caller: Caller,
    db: web::Data<Db>,
    Json(body): Json<RegisterEventType>,
) -> Result<HttpResponse, ApiError> {
    let event_type = body.parse()?;
    actions::event_types::register(&db, &caller.actor(), &event_type)
        .await
        .map_err(|error| match error {
            StoreError::EventTypeTaken => ApiError::conflict(format!(
                "The event type “{}” exists already.",
                event_type.key
            )),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(EventTypeBody::from(event_type)))
}

impl RegisterEventType {
    fn parse(self) -> Result<EventType, ApiError> {
        let mut invalid = std::collections::BTreeMap::new();
        let key = EventTypeKey::parse(&self.key).map_err(|error| {
            invalid.insert(
                "key".to_owned(),
                vec![
                    error
                        .message
                        .as_deref()
                        .unwrap_or("Invalid key.")
                        .to_owned(),
                ],
            );
        });
        let mut label = |field: &str, value: &str| {
            Label::parse(value, MAX_LABEL_CHARS, &format!("Enter a {field}."))
                .map_err(|error| {
                    let message = error.message.unwrap_or_default().into_owned();
                    invalid.insert(field.to_owned(), vec![message]);
                })
                .ok()
        };
        let group = label("group", &self.group);
        let description = label("description", &self.description);
        match (key, group, description) {
            (Ok(key), Some(group), Some(description)) if invalid.is_empty() => Ok(EventType {
                key,
                group: group.into_string(),
                description: description.into_string(),
                example_data: self.example.unwrap_or_else(|| serde_json::json!({})),
            }),
            _ => Err(ApiError::validation(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Some fields are invalid; see details.",
                invalid,
            )),
        }
    }
}

impl From<EventType> for EventTypeBody {
    fn from(event_type: EventType) -> Self {
        Self {
            key: event_type.key.to_string(),
            group: event_type.group,
            description: event_type.description,
            example: event_type.example_data,
        }
    }
}

/// The keys a webhook may subscribe to and a publisher may send.
pub async fn subscribable_keys(db: &Db) -> Result<Vec<EventTypeKey>, ApiError> {
    Ok(event_types::keys(db.reader())
        .await?
        .into_iter()
        .filter(EventTypeKey::is_subscribable)
        .collect())
}
