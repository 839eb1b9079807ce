//! What the Event Catalog lists of a schema: each field it writes out, with its type,
//! whether it is required, and its constraints in words.

use serde_json::Value;

/// One field a schema describes, as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `order.id`; an array's items as `lines[]`.
    pub path: String,
    /// `integer`, `string or null`; empty when the schema does not say.
    pub kind: String,
    pub required: bool,
    /// `minimum 0`, `at most 80 characters`, `one of "eur", "usd"` ...
    pub constraints: Vec<String>,
    /// What the schema says the field means (its `description`, else its `title`).
    pub description: Option<String>,
}

/// Fields listed at most, and how deep: a catalog entry stays readable.
const FIELDS_AT_MOST: usize = 200;
const DEPTH_AT_MOST: usize = 8;

/// The fields `schema` describes, parents before children.
pub(super) fn of(schema: &Value) -> Vec<Field> {
    let mut fields = Vec::new();
    collect(schema, "", 0, &mut fields);
    fields
}

fn collect(schema: &Value, path: &str, depth: usize, fields: &mut Vec<Field>) {
    if depth > DEPTH_AT_MOST {
        return;
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            if fields.len() >= FIELDS_AT_MOST {
                return;
            }
            let path = match path {
                "" => name.clone(),
                parent => format!("{parent}.{name}"),
            };
            fields.push(Field {
                path: path.clone(),
                kind: kind_of(property),
                required: required.contains(&name.as_str()),
                constraints: constraints_of(property),
                description: ["description", "title"]
                    .iter()
                    .find_map(|key| property[*key].as_str())
                    .map(str::trim)
                    .filter(|text| !text.is_empty())
                    .map(str::to_owned),
            });
            collect(property, &path, depth + 1, fields);
        }
    }
    if schema["items"].is_object() {
        collect(&schema["items"], &format!("{path}[]"), depth + 1, fields);
    }
}

fn kind_of(schema: &Value) -> String {
    match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    }
}

fn constraints_of(schema: &Value) -> Vec<String> {
    let said = |key: &str, before: &str, after: &str| {
        schema
            .get(key)
            .map(|value| format!("{before} {value}{after}"))
    };
    let counted = |key: &str, before: &str, unit: &str| {
        schema.get(key).map(|value| match value.as_u64() {
            Some(1) => format!("{before} 1 {unit}"),
            _ => format!("{before} {value} {unit}s"),
        })
    };
    let mut constraints: Vec<String> = [
        said("minimum", "at least", ""),
        said("exclusiveMinimum", "more than", ""),
        said("maximum", "at most", ""),
        said("exclusiveMaximum", "less than", ""),
        counted("minLength", "at least", "character"),
        counted("maxLength", "at most", "character"),
        counted("minItems", "at least", "item"),
        counted("maxItems", "at most", "item"),
        said("pattern", "matches", ""),
        said("format", "format", ""),
        said("const", "always", ""),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(choices) = schema["enum"].as_array() {
        let choices: Vec<String> = choices.iter().map(Value::to_string).collect();
        constraints.push(format!("one of {}", choices.join(", ")));
    }
    constraints
}
