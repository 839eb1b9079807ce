//! The JSON Schema (draft 2020-12) an event type's `data` must match: checked to be a
//! schema when registered, compiled once, and asked at every publish of that type.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// A valid JSON Schema, compiled.
#[derive(Clone)]
pub struct DataSchema {
    source: Value,
    validator: Arc<jsonschema::Validator>,
}

/// One way an instance misses the schema: where (a JSON pointer, `""` for the whole) and
/// what, in the validator's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub pointer: String,
    pub message: String,
}

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
}

/// Fields listed at most, and how deep: a catalog entry stays readable.
const FIELDS_AT_MOST: usize = 200;
const DEPTH_AT_MOST: usize = 8;

/// Mismatches reported at most: a body that misses everywhere gets a readable answer.
const MISMATCHES_AT_MOST: usize = 20;

impl DataSchema {
    /// The schema, if it is one: what draft 2020-12's meta-schema says of it otherwise. A
    /// schema may not fetch others: remote references are refused.
    pub fn parse(source: Value) -> Result<Self, String> {
        // `true` and `false` are schemas too, but say nothing a reader of the catalog could
        // use (or refuse everything): the API asks for an object.
        if !source.is_object() {
            return Err("A schema is a JSON object, like {\"type\": \"object\"}.".into());
        }
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&source)
            .map_err(|error| format!("This is not a valid JSON Schema (draft 2020-12): {error}"))?;
        Ok(Self {
            source,
            validator: Arc::new(validator),
        })
    }

    pub fn source(&self) -> &Value {
        &self.source
    }

    /// The fields it describes, parents before children: `properties` of objects and the
    /// `items` of arrays, as far as they are written out.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields = Vec::new();
        collect_fields(&self.source, "", 0, &mut fields);
        fields
    }

    /// How `instance` misses the schema, first problems first; empty when it matches.
    pub fn mismatches(&self, instance: &Value) -> Vec<Mismatch> {
        self.validator
            .iter_errors(instance)
            .take(MISMATCHES_AT_MOST)
            .map(|error| Mismatch {
                pointer: error.instance_path().to_string(),
                message: error.to_string(),
            })
            .collect()
    }
}

fn collect_fields(schema: &Value, path: &str, depth: usize, fields: &mut Vec<Field>) {
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
            });
            collect_fields(property, &path, depth + 1, fields);
        }
    }
    if schema["items"].is_object() {
        collect_fields(&schema["items"], &format!("{path}[]"), depth + 1, fields);
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
    let mut constraints: Vec<String> = [
        said("minimum", "at least", ""),
        said("exclusiveMinimum", "more than", ""),
        said("maximum", "at most", ""),
        said("exclusiveMaximum", "less than", ""),
        said("minLength", "at least", " characters"),
        said("maxLength", "at most", " characters"),
        said("minItems", "at least", " items"),
        said("maxItems", "at most", " items"),
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

impl fmt::Debug for DataSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DataSchema").field(&self.source).finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order_schema() -> DataSchema {
        DataSchema::parse(json!({
            "type": "object",
            "required": ["order"],
            "properties": {
                "order": {
                    "type": "object",
                    "required": ["id", "total"],
                    "properties": {
                        "id": {"type": "integer"},
                        "total": {"type": "number", "minimum": 0}
                    }
                }
            }
        }))
        .unwrap()
    }

    #[test]
    fn data_that_misses_the_schema_is_told_where_by_pointer() {
        let found = order_schema().mismatches(&json!({"order": {"id": "x", "total": -1}}));
        let pointers: Vec<&str> = found.iter().map(|m| m.pointer.as_str()).collect();
        assert!(pointers.contains(&"/order/id"), "{found:?}");
        assert!(pointers.contains(&"/order/total"), "{found:?}");
        assert!(found.iter().all(|m| !m.message.is_empty()));
    }

    #[test]
    fn the_fields_are_listed_with_type_requirement_and_constraints() {
        let fields = order_schema().fields();
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["order", "order.id", "order.total"]);
        assert!(fields.iter().all(|f| f.required));
        assert_eq!(fields[1].kind, "integer");
        assert_eq!(fields[2].constraints, ["at least 0"]);
    }

    #[test]
    fn matching_data_has_no_mismatch() {
        let found = order_schema().mismatches(&json!({"order": {"id": 7, "total": 9.5}}));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn what_is_not_a_schema_is_refused_with_the_reason() {
        assert!(DataSchema::parse(json!({"type": "no-such-type"})).is_err());
        assert!(DataSchema::parse(json!({"minimum": "five"})).is_err());
        assert!(DataSchema::parse(json!("a string")).is_err());
        assert!(DataSchema::parse(json!(true)).is_err());
        assert!(
            DataSchema::parse(json!({"$ref": "http://169.254.169.254/latest/meta-data"})).is_err(),
            "a schema fetches nothing"
        );
    }
}
