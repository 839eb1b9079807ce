//! The JSON Schema (draft 2020-12) an event type's `data` must match: checked to be a
//! schema when registered, compiled once, and asked at every publish of that type. Every
//! check ends soon, whatever the schema and the data: patterns run on a linear-time engine
//! (the `regex` crate), schemas that would loop are refused ([`bounds`]), data is at most
//! [`MAX_DATA_DEPTH`] deep, and each check has a budget ([`budget`]).

mod bounds;
mod budget;
mod example;
mod fields;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

pub use budget::STEPS as CHECK_STEPS;
pub use fields::Field;

/// How deeply `data` may nest objects and arrays: real events nest a handful of levels,
/// and a schema's cost can grow with each level.
pub const MAX_DATA_DEPTH: usize = 32;

/// A valid JSON Schema, compiled.
#[derive(Clone)]
pub struct DataSchema {
    source: Value,
    /// A schema stored before a rule it breaks came in cannot be checked: why not.
    validator: Result<Arc<jsonschema::Validator>, String>,
}

/// One way an instance misses the schema: where (a JSON pointer, `""` for the whole) and
/// what, in the validator's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub pointer: String,
    pub message: String,
}

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckRefusal {
    /// The data misses the schema: each way, first problems first.
    Mismatches(Vec<Mismatch>),
    /// The data nests more than [`MAX_DATA_DEPTH`] levels.
    TooDeep,
    /// Checking this data against this schema would cost more than one check may.
    TooCostly,
    /// The schema was stored before a rule it breaks: why it cannot be used.
    Uncheckable(String),
}

/// A compiled pattern's size at most: real patterns take a few KiB; `(a{1000}){1000}`
/// would take seconds to compile.
const PATTERN_BYTES: usize = 1024 * 1024;

/// Mismatches reported at most: a body that misses everywhere gets a readable answer.
const MISMATCHES_AT_MOST: usize = 20;

impl DataSchema {
    /// The schema, if it is one that can be checked in bounded time: what draft 2020-12's
    /// meta-schema says of it otherwise, or which rule it breaks. A schema may not fetch
    /// others: references stay within it.
    pub fn parse(source: Value) -> Result<Self, String> {
        // `true` and `false` are schemas too, but say nothing a reader of the catalog could
        // use (or refuse everything): the API asks for an object.
        if !source.is_object() {
            return Err("A schema is a JSON object, like {\"type\": \"object\"}.".into());
        }
        jsonschema::draft202012::meta::validate(&source)
            .map_err(|error| format!("This is not a valid JSON Schema (draft 2020-12): {error}"))?;
        let validator = compile(&source)?;
        Ok(Self {
            source,
            validator: Ok(Arc::new(validator)),
        })
    }

    /// A schema as stored: one that breaks a rule made since can still be shown, but
    /// every check of it says why it cannot be used.
    pub fn stored(source: Value) -> Self {
        match Self::parse(source.clone()) {
            Ok(schema) => schema,
            Err(reason) => Self {
                source,
                validator: Err(reason),
            },
        }
    }

    pub fn source(&self) -> &Value {
        &self.source
    }

    /// The fields it describes, parents before children: `properties` of objects and the
    /// `items` of arrays, as far as they are written out.
    pub fn fields(&self) -> Vec<Field> {
        fields::of(&self.source)
    }

    /// An example of the data it describes, made from the values it names (`examples`,
    /// `const`, `default`, `enum`) or a plain value of each type. It may still miss the
    /// schema (a `minLength`, a `pattern`): check it before showing it as an example.
    pub fn made_example(&self) -> Value {
        example::made_from(&self.source)
    }

    /// Whether `instance` matches, within the budget: CPU-bound for up to a fraction of a
    /// second, so callers run it off the threads that answer requests.
    pub fn check(&self, instance: &Value) -> Result<(), CheckRefusal> {
        self.check_within(instance, CHECK_STEPS)
    }

    /// Whether `instance` matches within `steps` (at most [`CHECK_STEPS`]); `TooCostly` when
    /// it needs more.
    pub fn check_within(&self, instance: &Value, steps: u64) -> Result<(), CheckRefusal> {
        let validator = self
            .validator
            .as_ref()
            .map_err(|reason| CheckRefusal::Uncheckable(reason.clone()))?;
        if nests_deeper_than(instance, MAX_DATA_DEPTH) {
            return Err(CheckRefusal::TooDeep);
        }
        let mismatches = budget::within_budget(steps.min(CHECK_STEPS), || {
            // Validity first: it stops at the first problem, so data that matches never
            // pays for collecting problems.
            if validator.is_valid(instance) {
                return Vec::new();
            }
            validator
                .iter_errors(instance)
                .take(MISMATCHES_AT_MOST)
                .map(|error| Mismatch {
                    pointer: error.instance_path().to_string(),
                    message: error.to_string(),
                })
                .collect()
        })
        .map_err(|budget::OutOfSteps| CheckRefusal::TooCostly)?;
        match mismatches.is_empty() {
            true => Ok(()),
            false => Err(CheckRefusal::Mismatches(mismatches)),
        }
    }
}

/// Compiled with the linear-time pattern engine and the budget's step in every schema
/// object; refused when a reference leaves the schema or loops without going into the data.
fn compile(source: &Value) -> Result<jsonschema::Validator, String> {
    let subschemas = bounds::Subschemas::of(source);
    let counted = budget::with_steps(source, subschemas.pointers());
    subschemas.check()?;
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_pattern_options(jsonschema::PatternOptions::regex().size_limit(PATTERN_BYTES))
        .with_keyword(budget::STEP_KEYWORD, budget::Step::compile)
        .build(&counted)
        .map_err(|error| match error.kind() {
            jsonschema::error::ValidationErrorKind::Pattern { .. }
            | jsonschema::error::ValidationErrorKind::Format { .. } => format!(
                "A pattern in the schema cannot be used: {error}. Patterns run on a \
                 linear-time engine: no look-around (?= ?! ?<= ?<!), no back-references (\\1), \
                 and at most 1 MiB once compiled."
            ),
            _ => format!("This is not a valid JSON Schema (draft 2020-12): {error}"),
        })
}

/// Whether objects and arrays nest more than `limit` levels in `value`.
pub fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    // Each value with how many objects and arrays hold it.
    let mut open = vec![(value, 0)];
    while let Some((value, holders)) = open.pop() {
        match value {
            Value::Array(_) | Value::Object(_) if holders == limit => return true,
            Value::Array(items) => open.extend(items.iter().map(|item| (item, holders + 1))),
            Value::Object(fields) => open.extend(fields.values().map(|field| (field, holders + 1))),
            _ => {}
        }
    }
    false
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

    fn mismatches(schema: &DataSchema, data: Value) -> Vec<Mismatch> {
        match schema.check(&data) {
            Ok(()) => Vec::new(),
            Err(CheckRefusal::Mismatches(found)) => found,
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn data_that_misses_the_schema_is_told_where_by_pointer() {
        let found = mismatches(&order_schema(), json!({"order": {"id": "x", "total": -1}}));
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
        let found = mismatches(&order_schema(), json!({"order": {"id": 7, "total": 9.5}}));
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

    /// `[[[…inner…]]]`, `depth` levels.
    fn nested(depth: usize, inner: Value) -> Value {
        (0..depth).fold(inner, |inner, _| json!([inner]))
    }

    #[test]
    fn a_schema_that_doubles_its_work_per_level_is_stopped_by_the_budget() {
        let branch = json!({"type": ["array", "integer"], "items": {"$ref": "#"}});
        let schema = DataSchema::parse(json!({"allOf": [branch, branch]})).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            schema.check(&nested(30, json!(1))),
            Ok(()),
            "matching data passes"
        );
        let missing = nested(30, json!("not an integer"));
        assert_eq!(schema.check(&missing), Err(CheckRefusal::TooCostly));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let shallow = schema.check(&nested(3, json!("x")));
        assert!(
            matches!(shallow, Err(CheckRefusal::Mismatches(_))),
            "the next check has its own budget: {shallow:?}"
        );
    }

    #[test]
    fn data_nested_deeper_than_the_limit_is_refused() {
        let schema = DataSchema::parse(json!({"type": "array"})).unwrap();
        assert_eq!(schema.check(&nested(MAX_DATA_DEPTH, json!(1))), Ok(()));
        assert_eq!(
            schema.check(&nested(MAX_DATA_DEPTH + 1, json!(1))),
            Err(CheckRefusal::TooDeep)
        );
        assert!(!nests_deeper_than(&json!({"a": {"b": [1]}}), 3));
        assert!(nests_deeper_than(&json!({"a": {"b": [1]}}), 2));
    }

    #[test]
    fn patterns_run_in_linear_time_and_look_around_is_refused_with_the_reason() {
        let refused = DataSchema::parse(json!({"pattern": "^(?:(a|aa)+(?=c)|a*b)$"})).unwrap_err();
        assert!(refused.contains("look-around"), "{refused}");
        assert!(DataSchema::parse(json!({"patternProperties": {"(a)\\1": {}}})).is_err());
        let schema =
            DataSchema::parse(json!({"items": {"pattern": "^(?:(a|aa)+c|a*b)$"}})).unwrap();
        let strings: Vec<Value> = (0..1000)
            .map(|_| json!(format!("{}b", "a".repeat(25))))
            .collect();
        let started = std::time::Instant::now();
        assert_eq!(schema.check(&Value::Array(strings)), Ok(()));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn a_stored_schema_that_breaks_a_newer_rule_is_shown_but_never_used() {
        let stored = DataSchema::stored(json!({"pattern": "a(?=b)"}));
        assert_eq!(stored.source(), &json!({"pattern": "a(?=b)"}));
        assert!(matches!(
            stored.check(&json!("ab")),
            Err(CheckRefusal::Uncheckable(reason)) if reason.contains("look-around")
        ));
    }
}
