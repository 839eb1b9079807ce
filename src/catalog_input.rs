//! A new event type, and a schema, as the API and the console's form both read them: the
//! same checks and the same words, whichever way an admin registers a type.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::db::event_types::EventType;
use crate::domain::{
    CHECK_STEPS, CheckRefusal, DataSchema, EventTypeKey, Label, MAX_DATA_DEPTH, looks_alike,
    nests_deeper_than,
};
use crate::ingest::{check_bounded, compile_off_thread};

/// A group names a section of the catalog.
pub const MAX_GROUP_CHARS: usize = 200;
/// A sentence or two: what happened, for whoever picks the type.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// An example is a typical body, not a data set.
const MAX_EXAMPLE_BYTES: usize = 16 * 1024;
/// Schemas of real events are a few KiB.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// What is wrong, field by field, in the words the person who typed it reads.
pub type Problems = BTreeMap<String, Vec<String>>;

/// A type to register, as sent.
pub struct NewEventType {
    pub key: String,
    pub group: String,
    pub description: String,
    /// Made from the schema (or `{}`) when none is sent.
    pub example: Option<Value>,
    pub schema: Option<Value>,
}

impl NewEventType {
    /// The type to register, or every problem with it. An example that was sent must match
    /// the schema; one made from the schema that misses it (a pattern, a length) is shown as
    /// `{}` instead.
    pub async fn parse(self) -> Result<EventType, Problems> {
        let mut invalid = Problems::new();
        let key = EventTypeKey::parse(&self.key).map_err(|error| {
            let message = error
                .message
                .as_deref()
                .unwrap_or("Invalid key.")
                .to_owned();
            invalid.insert("key".to_owned(), vec![message]);
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
        let (Ok(key), Some(group), Some(description), true) =
            (key, group, description, invalid.is_empty())
        else {
            return Err(invalid);
        };
        let mut event_type = EventType {
            key,
            group: group.into_string(),
            description: description.into_string(),
            example_data: example,
            archived_at: None,
            schema_version: i64::from(schema.is_some()),
            schema,
        };
        if let Some(schema) = &event_type.schema
            && let Some(message) = example_refusal(schema, &event_type.example_data).await
        {
            if example_sent {
                return Err([("example".to_owned(), vec![message])].into());
            }
            event_type.example_data = serde_json::json!({});
        }
        Ok(event_type)
    }
}

fn example_too_deep() -> String {
    format!("The example nests objects and arrays more than {MAX_DATA_DEPTH} levels deep.")
}

/// An example small and shallow enough to show in the catalog.
fn checked_example(example: &Value) -> Result<(), String> {
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
pub async fn checked_schema(schema: Value) -> Result<DataSchema, String> {
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
pub async fn example_refusal(schema: &DataSchema, example: &Value) -> Option<String> {
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
