//! The whole catalog as one OpenAPI 3.1 document with a `webhooks` entry per event type: the
//! request each receiver gets (headers and the four-key body, `data` by the type's schema),
//! for receivers to generate types from.

use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::db::Db;
use crate::db::event_types::{self, EventType};
use crate::web::error::AppError;

/// `GET /settings/events/webhooks.json`: a download.
pub async fn download(db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let catalog = event_types::current(db.reader()).await?;
    let mut response = HttpResponse::Ok().json(document(&catalog));
    response.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"webhooks.openapi.json\""),
    );
    Ok(response)
}

fn document(catalog: &[EventType]) -> Value {
    let webhooks: Map<String, Value> = catalog
        .iter()
        .filter(|event_type| event_type.key.is_subscribable())
        .map(|event_type| (event_type.key.to_string(), webhook(event_type)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Webhook Console events",
            "version": "1",
            "description": "What each event type's receivers get: a POST with the Standard \
                            Webhooks headers and a JSON body of four keys."
        },
        "webhooks": webhooks,
    })
}

fn webhook(event_type: &EventType) -> Value {
    let data = event_type
        .schema
        .as_ref()
        .map_or_else(|| json!({}), |schema| schema.source().clone());
    let header = |name: &str, description: &str| {
        json!({"name": name, "in": "header", "required": true,
               "description": description, "schema": {"type": "string"}})
    };
    json!({
        "post": {
            "summary": event_type.description,
            "tags": [event_type.group],
            "parameters": [
                header("webhook-id", "The delivery's id: the same on every retry."),
                header("webhook-timestamp", "Unix seconds when this try was signed."),
                header("webhook-signature", "Space-separated v1,<base64> HMAC-SHA256 signatures."),
            ],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["event_time", "event_type", "current_context", "data"],
                    "properties": {
                        "event_time": {"type": "string", "format": "date-time"},
                        "event_type": {"const": event_type.key.as_str()},
                        "current_context": {"type": "object"},
                        "data": data,
                    }
                }}}
            },
            "responses": {"2XX": {"description": "Delivered; anything else is tried again."}}
        }
    })
}
