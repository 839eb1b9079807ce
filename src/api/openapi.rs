use actix_web::{HttpResponse, web};
use serde_json::json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{ApiError, accounts, deliveries, error, event_types, events, webhooks};
use crate::db::Db;
use crate::domain::{
    API_KEY_PATTERN, AccountKey, CustomHeaders, EventSelection, NAME_PATTERN, URL_PATTERN,
    header_patterns,
};

/// The API's description, generated from the handlers' and types' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Webhook Console API",
        description = "Publish events and manage webhooks. Every route but this document needs `Authorization: Bearer <API token>`; create tokens in Settings → API Tokens or with `webhook-console token create`."
    ),
    paths(
        events::publish,
        accounts::list,
        accounts::show,
        accounts::put,
        accounts::delete,
        event_types::list,
        event_types::register,
        event_types::change,
        deliveries::search::find,
        webhooks::list,
        webhooks::create,
        webhooks::show,
        webhooks::update,
        webhooks::delete,
        webhooks::secret,
        webhooks::rotate_secret,
        deliveries::list,
        deliveries::redeliver,
        deliveries::send_test_event,
        deliveries::recover,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, deliveries::search::FoundStatus)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The custom headers' rules: names, values, how many. When `changing` a webhook, a secret
/// header may come without its value, to keep the stored one.
fn headers_schema(changing: bool) -> serde_json::Value {
    let value = json!({
        "type": "string", "maxLength": CustomHeaders::MAX_VALUE_CHARS,
        "pattern": header_patterns::VALUE
    });
    let marked = match changing {
        false => json!({
            "type": "object", "required": ["value"], "additionalProperties": false,
            "properties": {"value": value, "secret": {"type": "boolean"}}
        }),
        true => json!({
            "type": "object", "additionalProperties": false,
            "properties": {"value": value, "secret": {"type": "boolean"}},
            "anyOf": [
                {"required": ["value"]},
                {"required": ["secret"], "properties": {"secret": {"const": true}}}
            ]
        }),
    };
    json!({
        "type": ["object", "null"],
        "description": "Custom headers sent with every delivery, by name: a value, or \
            {\"value\": …, \"secret\": true} for one sealed at rest and never shown again. \
            Absent or null: none when creating, unchanged when changing.",
        "maxProperties": CustomHeaders::MAX,
        "propertyNames": {
            "minLength": 1, "maxLength": CustomHeaders::MAX_NAME_CHARS,
            "pattern": header_patterns::NAME,
            "not": {"pattern": header_patterns::reserved()}
        },
        "additionalProperties": {"anyOf": [value, marked]}
    })
}

/// The document, with the event types that exist right now as the allowed values of
/// every field that names one: the catalog lives in the database.
pub async fn document(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    let subscribable = event_types::subscribable_keys(&db).await?;
    let keys: Vec<String> = subscribable.iter().map(ToString::to_string).collect();
    let publishable: Vec<String> = subscribable
        .iter()
        .filter(|key| !key.is_the_consoles_own())
        .map(ToString::to_string)
        .collect();
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let schemas = &mut document["components"]["schemas"];
    // Request bodies read a missing field as empty so that it gets the form's own message;
    // that is no default for a client to rely on (and `[]` or `""` would break the field's
    // own rules), so none is published.
    if let Some(schemas) = schemas.as_object_mut() {
        for properties in schemas
            .values_mut()
            .filter_map(|schema| schema.get_mut("properties")?.as_object_mut())
        {
            for property in properties.values_mut().filter_map(|p| p.as_object_mut()) {
                property.remove("default");
            }
        }
    }
    schemas["PublishEvent"]["properties"]["event_type"]["enum"] = json!(publishable);
    let mut subscriptions = vec![EventSelection::ALL.to_owned()];
    subscriptions.extend(keys);
    for (schema, changing) in [("CreateWebhook", false), ("UpdateWebhook", true)] {
        let properties = &mut schemas[schema]["properties"];
        properties["events"]["items"]["enum"] = json!(subscriptions);
        // The domain types' own rules, so client-side checks match the server's.
        properties["name"]["pattern"] = json!(NAME_PATTERN);
        properties["url"]["pattern"] = json!(URL_PATTERN);
        properties["api_key"]["pattern"] = json!(API_KEY_PATTERN);
        properties["headers"] = headers_schema(changing);
    }
    let event_type = &mut schemas["RegisterEventType"]["properties"];
    event_type["group"]["pattern"] = json!(NAME_PATTERN);
    // The console's own names: its group (in any case) and its key namespaces.
    event_type["group"]["not"] = json!({"pattern": "^\\s*[Ss][Yy][Ss][Tt][Ee][Mm]\\s*$"});
    event_type["key"]["not"] = json!({"pattern": "^(webhook|delivery)\\."});
    event_type["description"]["pattern"] = json!(NAME_PATTERN);
    let account_key = json!({"type": "string", "pattern": AccountKey::PATTERN});
    schemas["PutAccount"]["properties"]["name"]["pattern"] = json!(NAME_PATTERN);
    for schema in ["PublishEvent", "CreateWebhook"] {
        schemas[schema]["properties"]["account"] = json!({
            "type": ["string", "null"], "pattern": AccountKey::PATTERN,
            "description": "Whose it is (an account's key); absent: the token's own account"
        });
    }
    if let Some(operations) = document["paths"]["/api/v1/accounts/{key}"].as_object_mut() {
        for parameter in operations
            .values_mut()
            .filter_map(|operation| operation["parameters"].as_array_mut())
            .flatten()
            .filter(|parameter| parameter["name"] == "key")
        {
            parameter["schema"] = account_key.clone();
        }
    }
    let publish = &mut document["paths"]["/api/v1/events"]["post"]["parameters"];
    if let Some(parameters) = publish.as_array_mut() {
        for parameter in parameters
            .iter_mut()
            .filter(|p| p["name"] == "Idempotency-Key")
        {
            parameter["schema"] = json!({
                "type": "string", "minLength": 1, "maxLength": events::MAX_IDEMPOTENCY_KEY_CHARS,
                "pattern": "^[!-~]([ -~]*[!-~])?$"
            });
        }
    }
    Ok(HttpResponse::Ok().json(document))
}
