//! An example `data` made from a schema, for a type registered without one: the values its
//! authors wrote (`examples`, `const`, `default`, `enum`), else a plain value of each type.

use serde_json::{Map, Value, json};

/// How deep the made example goes: enough to show the shape, finite for recursive schemas.
const DEPTH_AT_MOST: usize = 6;

pub(super) fn made_from(root: &Value) -> Value {
    value_for(root, root, 0)
}

fn value_for(root: &Value, schema: &Value, depth: usize) -> Value {
    let schema = follow_references(root, schema);
    if let Some(first) = schema["examples"].as_array().and_then(|all| all.first()) {
        return first.clone();
    }
    for written in ["const", "default"] {
        if let Some(value) = schema.get(written) {
            return value.clone();
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|all| all.first()) {
        return first.clone();
    }
    if depth >= DEPTH_AT_MOST {
        return Value::Null;
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "null",
    };
    match kind {
        "object" => {
            let fields: Map<String, Value> = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, field)| (name.clone(), value_for(root, field, depth + 1)))
                .collect();
            Value::Object(fields)
        }
        "array" => match schema.get("items") {
            Some(items) if items.is_object() => json!([value_for(root, items, depth + 1)]),
            _ => json!([]),
        },
        "string" => json!(match schema["format"].as_str() {
            Some("date-time") => "2026-01-15T09:30:00Z",
            Some("date") => "2026-01-15",
            Some("email") => "ada@example.com",
            Some("uri") | Some("url") => "https://example.com/",
            Some("uuid") => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            _ => "string",
        }),
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or_else(|| json!(0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The schema a `$ref` chain within this one ends at (a few steps at most).
fn follow_references<'s>(root: &'s Value, mut schema: &'s Value) -> &'s Value {
    for _ in 0..DEPTH_AT_MOST {
        let Some(pointer) = schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) else {
            break;
        };
        match root.pointer(pointer) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}
