//! What the event-type endpoints read and answer, and the checks a registration passes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog_input::NewEventType;
use crate::db::event_types::EventType;

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

impl From<RegisterEventType> for NewEventType {
    fn from(body: RegisterEventType) -> Self {
        Self {
            key: body.key,
            group: body.group,
            description: body.description,
            example: body.example,
            schema: body.schema,
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
            archived: event_type.archived_at.is_some(),
            archived_at: event_type.archived_at.map(|at| at.rfc3339()),
            schema: event_type.schema.map(|schema| schema.source().clone()),
            schema_version: event_type.schema_version,
        }
    }
}
