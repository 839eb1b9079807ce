mod bodies;

pub use bodies::{ChangeEventType, EventTypeBody, EventTypeList, RegisterEventType};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::actions;
use crate::catalog_input::{NewEventType, Problems, checked_schema, example_refusal};
use crate::db::event_types::{self, EventType};
use crate::db::{Db, StoreError};
use crate::domain::EventTypeKey;
use crate::ingest::Ingestor;

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
        (status = 409, description = "The key exists, or the group looks like another group", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Invalid fields; a `schema` that is not a JSON Schema (draft 2020-12), or an `example` it refuses", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn register(
    caller: Caller,
    db: web::Data<Db>,
    ingestor: web::Data<Ingestor>,
    Json(body): Json<RegisterEventType>,
) -> Result<HttpResponse, ApiError> {
    let event_type = NewEventType::from(body)
        .parse()
        .await
        .map_err(invalid_fields)?;
    actions::event_types::register(&db, &caller.actor(), &event_type)
        .await
        .map_err(|error| match error {
            StoreError::EventTypeTaken => ApiError::conflict(format!(
                "The event type “{}” exists already.",
                event_type.key
            )),
            StoreError::GroupLooksAlike { existing } => {
                let message = format!(
                    "The group “{}” looks like the existing group “{existing}”. Use “{existing}” \
                     to add the type to it, or a clearly different name.",
                    event_type.group
                );
                let fields = [("group".to_owned(), vec![message.clone()])].into();
                ApiError::conflict_in_fields(&message, fields)
            }
            other => catalog_error(other),
        })?;
    ingestor.catalog_changed();
    Ok(HttpResponse::Created().json(EventTypeBody::from(event_type)))
}

#[utoipa::path(
    patch, path = "/api/v1/event-types/{key}", operation_id = "changeEventType",
    tag = "event types",
    params(("key" = String, Path, description = "The type's key, e.g. `invoice.paid`")),
    request_body = ChangeEventType,
    responses(
        (status = 200, body = EventTypeBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 409, description = "The type is the console's own (`webhook.test`, the operational events)", body = ErrorBody),
        (status = 422, description = "The catalog is full, or a `schema` that is not a JSON Schema or refuses the type's example", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn change(
    caller: Caller,
    db: web::Data<Db>,
    ingestor: web::Data<Ingestor>,
    key: web::Path<String>,
    Json(body): Json<ChangeEventType>,
) -> Result<HttpResponse, ApiError> {
    let key = EventTypeKey::parse(&key).map_err(|_| ApiError::not_found("event type"))?;
    let current = find(&db, &key).await?;
    if key.is_the_consoles_own() {
        return Err(ApiError::conflict(key.why_the_consoles_own()));
    }
    if let Some(schema) = body.schema {
        let refuse = |field: &str, message: String| {
            let fields = [(field.to_owned(), vec![message.clone()])].into();
            ApiError::validation(StatusCode::UNPROCESSABLE_ENTITY, &message, fields)
        };
        let schema = match schema {
            Some(source) => Some(
                checked_schema(source)
                    .await
                    .map_err(|message| refuse("schema", message))?,
            ),
            None => None,
        };
        if let Some(schema) = &schema
            && let Some(message) = example_refusal(schema, &current.example_data).await
        {
            return Err(refuse(
                "example",
                format!("The type's example (in the Event Catalog) no longer fits: {message}"),
            ));
        }
        actions::event_types::change_schema(&db, &caller.actor(), &key, schema.as_ref()).await?;
        ingestor.catalog_changed();
    }
    if let Some(archived) = body.archived {
        actions::event_types::set_archived(&db, &caller.actor(), &key, archived)
            .await
            .map_err(catalog_error)?;
    }
    Ok(HttpResponse::Ok().json(EventTypeBody::from(find(&db, &key).await?)))
}

async fn find(db: &Db, key: &EventTypeKey) -> Result<EventType, ApiError> {
    event_types::list(db.reader())
        .await?
        .into_iter()
        .find(|event_type| event_type.key == *key)
        .ok_or_else(|| ApiError::not_found("event type"))
}

/// One problem is the message; several are listed field by field.
fn invalid_fields(problems: Problems) -> ApiError {
    let message = match problems.values().flatten().collect::<Vec<_>>().as_slice() {
        [only] => (*only).clone(),
        _ => "Some fields are invalid; see details.".to_owned(),
    };
    ApiError::validation(StatusCode::UNPROCESSABLE_ENTITY, &message, problems)
}

fn catalog_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::not_found("event type"),
        StoreError::CatalogFull => ApiError::catalog_full(EventTypeKey::CATALOG_LIMIT),
        other => other.into(),
    }
}

/// The keys a webhook may subscribe to, from one read of the catalog. A subscription to an
/// archived type is refused as a conflict with the catalog as it is now: the type exists,
/// and may be restored.
pub async fn keys_to_subscribe(db: &Db, events: &[String]) -> Result<Vec<EventTypeKey>, ApiError> {
    let catalog = event_types::list(db.reader()).await?;
    let archived = catalog
        .iter()
        .filter(|event_type| event_type.is_archived())
        .map(|event_type| event_type.key.to_string())
        .find(|key| events.contains(key));
    if let Some(key) = archived {
        let message = format!(
            "“{key}” is archived: it is no longer published. Restore it first, or leave it out."
        );
        let fields = [("events".to_owned(), vec![message.clone()])].into();
        return Err(ApiError::conflict_in_fields(&message, fields));
    }
    Ok(catalog
        .into_iter()
        .filter(|event_type| !event_type.is_archived() && event_type.key.is_subscribable())
        .map(|event_type| event_type.key)
        .collect())
}

/// The keys a webhook may subscribe to and a publisher may send.
pub async fn subscribable_keys(db: &Db) -> Result<Vec<EventTypeKey>, ApiError> {
    Ok(event_types::current_keys(db.reader())
        .await?
        .into_iter()
        .filter(EventTypeKey::is_subscribable)
        .collect())
}
