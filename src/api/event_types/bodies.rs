//! What the event-type endpoints read and answer, and the checks a registration passes.

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::db::event_types::EventType;
use crate::domain::{
    CHECK_STEPS, CheckRefusal, DataSchema, EventTypeKey, Label, MAX_DATA_DEPTH, looks_alike,
    nests_deeper_than,
};
use crate::ingest::{check_bounded, compile_off_thread};

/// A group is a heading in the catalog and pickers.
const MAX_GROUP_CHARS: usize = 200;
/// A sentence or two: every picker shows it beside the key.
const MAX_DESCRIPTION_CHARS: usize = 500;
/// The example's `data` as JSON: a typical body, not a whole export; the catalog page
/// shows every example.
const MAX_EXAMPLE_BYTES: usize = 16 * 1024;
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeBody {
    #[schema(example = "order.purchased")]
    pub key: String,
    #[schema(example = "Purchase")]
    pub group: String,
    pub description: String,
    /// The `data` of the example body in the Event Catalog.
    pub example: serde_json::Value,
    /// Archived: kept for earlier deliveries, gone from pickers, refused at publish.
    pub archived: bool,
    /// When it was archived (RFC 3339), or null.
    pub archived_at: Option<String>,
    /// The JSON Schema (draft 2020-12) its `data` must match, or null: publishing data
    /// that does not match is refused with 422 `validation_failed`.
    pub schema: Option<serde_json::Value>,
    /// 0 while it has no schema; one more at each change.
    pub schema_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub data: Vec<EventTypeBody>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterEventType {
    /// `group.name` in lower case, e.g. `invoice.paid`. `webhook.*` and `delivery.*` are
    /// kept for the console's own events.
    #[schema(
        required = true,
        example = "invoice.paid",
        max_length = 100,
        pattern = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
    )]
    pub key: String,
    /// A group whose name looks like another group's (other case, look-alike letters) is
    /// refused with 409: use that group's exact name. `System` is the console's own.
    #[schema(required = true, example = "Billing", max_length = 200)]
    pub group: String,
    #[schema(required = true, max_length = 500)]
    pub description: String,
    /// Example `data`, at most 16 KiB of JSON. With a schema, it must match it. When
    /// omitted: made from the schema (its `examples`, `const`, `default`, `enum` and types)
    /// if that matches it, else `{}`.
    pub example: Option<serde_json::Value>,
    /// A JSON Schema (draft 2020-12) for `data`, at most 64 KiB; it may not refer to other
    /// documents. Publishing data that does not match is refused with 422.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
}

/// A change to a type of the catalog: archive or restore it, or give it a new schema.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEventType {
    /// `true` archives the type (kept for earlier deliveries, gone from pickers, refused
    /// at publish); `false` restores it, within the limit of 1,000 types not archived.
    pub archived: Option<bool>,
    /// A new JSON Schema (draft 2020-12) for `data`, which the type's example must match:
    /// the schema's next version, audited. Publishes check it within a second on every node.
    /// `null` removes the schema (also a new version): any `data` is taken again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>, nullable)]
    pub schema: Option<Option<serde_json::Value>>,
}

/// Tells `"schema": null` (remove it) apart from a missing `schema` (keep it).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Option::<serde_json::Value>::deserialize(deserializer).map(Some)
}

/// A registration as read: the type, and whether its example was sent or made here.
pub(super) struct Registration {
    event_type: EventType,
    example_sent: bool,
}

impl Registration {
    /// The type to register: an example that was sent must match the schema; one made from
    /// the schema that misses it (a pattern, a length) is shown as `{}` instead.
    pub(super) async fn checked(self) -> Result<EventType, ApiError> {
        let Self {
            mut event_type,
            example_sent,
        } = self;
        let Some(schema) = &event_type.schema else {
            return Ok(event_type);
        };
        match example_refusal(schema, &event_type.example_data).await {
            None => {}
            Some(message) if example_sent => {
                let fields = [("example".to_owned(), vec![message.clone()])].into();
                return Err(ApiError::validation(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &message,
                    fields,
                ));
            }
            Some(_) => event_type.example_data = serde_json::json!({}),
        }
        Ok(event_type)
    }
}

impl RegisterEventType {
    pub(super) async fn parse(self) -> Result<Registration, ApiError> {
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
        let mut label = |field: &str, value: &str, max_chars: usize| {
            Label::parse(value, max_chars, &format!("Enter a {field}."))
                .map_err(|error| {
                    let message = error.message.unwrap_or_default().into_owned();
                    invalid.insert(field.to_owned(), vec![message]);
                })
                .ok()
        };
        let group = label("group", &self.group, MAX_GROUP_CHARS);
        let description = label("description", &self.description, MAX_DESCRIPTION_CHARS);
        if let Ok(key) = &key
            && key.is_in_the_consoles_namespace()
        {
            invalid.insert(
                "key".to_owned(),
                vec![format!(
                    "“{key}” is in a namespace kept for the console's own events (webhook.*, \
                     delivery.*), so receivers can trust them: choose another, like billing.{}.",
                    key.as_str().split('.').next_back().unwrap_or("name")
                )],
            );
        }
        if looks_alike(&self.group, EventTypeKey::CONSOLES_GROUP) {
            invalid.insert(
                "group".to_owned(),
                vec![format!(
                    "The “{}” group holds the console's own events: choose another group.",
                    EventTypeKey::CONSOLES_GROUP
                )],
            );
        }
        if let Some(example) = &self.example
            && let Err(message) = checked_example(example)
        {
            invalid.insert("example".to_owned(), vec![message]);
        }
        let schema = match self.schema {
            Some(schema) => checked_schema(schema)
                .await
                .map_err(|message| invalid.insert("schema".to_owned(), vec![message]))
                .ok(),
            None => None,
        };
        let example_sent = self.example.is_some();
        let example = match (self.example, &schema) {
            (Some(example), _) => example,
            (None, Some(schema)) => schema.made_example(),
            (None, None) => serde_json::json!({}),
        };
        match (key, group, description) {
            (Ok(key), Some(group), Some(description)) if invalid.is_empty() => Ok(Registration {
                event_type: EventType {
                    key,
                    group: group.into_string(),
                    description: description.into_string(),
                    example_data: example,
                    archived_at: None,
                    schema_version: i64::from(schema.is_some()),
                    schema,
                },
                example_sent,
            }),
            _ => Err(ApiError::validation(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Some fields are invalid; see details.",
                invalid,
            )),
        }
    }
}

fn example_too_deep() -> String {
    format!("The example nests objects and arrays more than {MAX_DATA_DEPTH} levels deep.")
}

/// An example small and shallow enough to show in the catalog.
fn checked_example(example: &serde_json::Value) -> Result<(), String> {
    if example.to_string().len() > MAX_EXAMPLE_BYTES {
        return Err(format!(
            "Keep the example to a typical body: at most {} KiB of JSON.",
            MAX_EXAMPLE_BYTES / 1024
        ));
    }
    if nests_deeper_than(example, MAX_DATA_DEPTH) {
        return Err(example_too_deep());
    }
    Ok(())
}

/// A schema, if it is one that can be checked in bounded time; else why not. Compiled off
/// the request threads: a schema of many patterns takes a while.
pub(super) async fn checked_schema(schema: serde_json::Value) -> Result<DataSchema, String> {
    if schema.to_string().len() > MAX_SCHEMA_BYTES {
        return Err(format!(
            "Keep the schema to at most {} KiB of JSON.",
            MAX_SCHEMA_BYTES / 1024
        ));
    }
    compile_off_thread(schema).await
}

/// Why the example does not pass the schema, if it does not: checked like a publish's data,
/// within the check's budget.
pub(super) async fn example_refusal(
    schema: &DataSchema,
    example: &serde_json::Value,
) -> Option<String> {
    let refusal = check_bounded(schema.clone(), example.clone()).await.err()?;
    Some(match refusal {
        CheckRefusal::Mismatches(mismatches) => {
            let first = mismatches.first()?;
            format!(
                "The example does not match the schema at \"{}\": {}",
                first.pointer, first.message
            )
        }
        CheckRefusal::TooDeep => example_too_deep(),
        CheckRefusal::TooCostly => format!(
            "The example is too costly to check against this schema (more than {CHECK_STEPS} \
             steps): the schema applies itself several times at each level of the data."
        ),
        CheckRefusal::Uncheckable(reason) => reason,
    })
}

impl From<EventType> for EventTypeBody {
    fn from(event_type: EventType) -> Self {
        Self {
            key: event_type.key.to_string(),
            group: event_type.group,
            description: event_type.description,
            example: event_type.example_data,
            archived: event_type.archived_at.is_some(),
            archived_at: event_type.archived_at.map(|at| at.rfc3339()),
            schema: event_type.schema.map(|schema| schema.source().clone()),
            schema_version: event_type.schema_version,
        }
    }
}
