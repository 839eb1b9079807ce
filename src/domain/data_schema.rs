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

/// Mismatches reported at most: a body that misses everywhere gets a readable answer.
const MISMATCHES_AT_MOST: usize = 20;

impl DataSchema {
    /// The schema, if it is one: what draft 2020-12's meta-schema says of it otherwise. A
    /// schema may not fetch others: remote references are refused.
    pub fn parse(source: Value) -> Result<Self, String> {
        if !source.is_object() && !source.is_boolean() {
            return Err("A schema is a JSON object (or true/false).".into());
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
    fn matching_data_has_no_mismatch() {
        let found = order_schema().mismatches(&json!({"order": {"id": 7, "total": 9.5}}));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn what_is_not_a_schema_is_refused_with_the_reason() {
        assert!(DataSchema::parse(json!({"type": "no-such-type"})).is_err());
        assert!(DataSchema::parse(json!({"minimum": "five"})).is_err());
        assert!(DataSchema::parse(json!("a string")).is_err());
        assert!(
            DataSchema::parse(json!({"$ref": "http://169.254.169.254/latest/meta-data"})).is_err(),
            "a schema fetches nothing"
        );
    }
}
