//! The whole catalog as one OpenAPI 3.1 document with a `webhooks` entry per event type: the
//! request each receiver gets (headers and the four-key body, `data` by the type's schema),
//! for receivers to generate types from. Each type's schema is a named component, its
//! references rewritten to point where it now sits, so every `$ref` resolves in this
//! document.

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

/// Every type a receiver can get, `webhook.test` (sent by "Send test event") included.
fn document(catalog: &[EventType]) -> Value {
    let webhooks: Map<String, Value> = catalog
        .iter()
        .map(|event_type| (event_type.key.to_string(), webhook(event_type)))
        .collect();
    let schemas: Map<String, Value> = catalog
        .iter()
        .filter_map(|event_type| {
            let schema = event_type.schema.as_ref()?;
            let name = component_name(event_type);
            let at = format!("#/components/schemas/{name}");
            Some((name, moved_to(schema.source().clone(), &at)))
        })
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
        "components": {"schemas": schemas},
    })
}

/// `order.purchased.data`: a valid component name, as keys are dotted lower-case words.
fn component_name(event_type: &EventType) -> String {
    format!("{}.data", event_type.key)
}

/// `schema` as it reads at `at`: its references within itself (`#`, `#/…`) made to point
/// there. A schema with its own `$id` is its own resource, whose references resolve
/// within it wherever it sits, so it stays as it is.
fn moved_to(mut schema: Value, at: &str) -> Value {
    if schema.get("$id").is_none() {
        rewrite_references(&mut schema, at);
    }
    schema
}

fn rewrite_references(value: &mut Value, at: &str) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match (key.as_str(), field.as_str()) {
                    ("$ref" | "$dynamicRef", Some(reference)) => {
                        if let Some(pointer) = reference.strip_prefix('#')
                            && (pointer.is_empty() || pointer.starts_with('/'))
                        {
                            *field = Value::String(format!("{at}{pointer}"));
                        }
                    }
                    _ => rewrite_references(field, at),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_references(item, at)),
        _ => {}
    }
}

fn webhook(event_type: &EventType) -> Value {
    let data = match &event_type.schema {
        Some(_) => json!({"$ref": format!("#/components/schemas/{}", component_name(event_type))}),
        None => json!({}),
    };
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
