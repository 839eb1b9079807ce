//! What a schema must be for its checks to end: every reference points at a schema inside
//! this one, and no chain of references and `allOf`/`anyOf`/`oneOf`/`not`/`if` leads back
//! to where it started without going one level into the data. Such a loop would check the
//! same value against the same schema for ever; loops that go into the data end with it.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Keywords whose schema applies to the same value as the schema holding them.
const IN_PLACE_ONE: [&str; 4] = ["not", "if", "then", "else"];
const IN_PLACE_MANY: [&str; 3] = ["allOf", "anyOf", "oneOf"];
const IN_PLACE_MAP: [&str; 1] = ["dependentSchemas"];
/// Keywords whose schema applies to a part of the value (an item, a property, a name).
const INTO_DATA_ONE: [&str; 7] = [
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
const INTO_DATA_MANY: [&str; 1] = ["prefixItems"];
const INTO_DATA_MAP: [&str; 2] = ["properties", "patternProperties"];
/// Keywords that only hold schemas for references to use.
const DEFINITIONS: [&str; 2] = ["$defs", "definitions"];
/// References, resolved statically: `$dynamicRef` to every `$dynamicAnchor` of its name.
const REFERENCES: [&str; 2] = ["$ref", "$dynamicRef"];

/// Each schema object of a schema, by its JSON pointer, in the order met.
pub(super) struct Subschemas<'s> {
    pointers: HashMap<String, usize>,
    nodes: Vec<Node<'s>>,
}

struct Node<'s> {
    pointer: String,
    schema: &'s Map<String, Value>,
    /// Schemas that apply to the same value as this one.
    in_place: Vec<usize>,
}

impl<'s> Subschemas<'s> {
    /// Every schema object within `root`, where the draft's keywords say schemas are.
    pub(super) fn of(root: &'s Value) -> Self {
        let mut found = Self {
            pointers: HashMap::new(),
            nodes: Vec::new(),
        };
        found.collect(root, String::new());
        found
    }

    /// The schema objects' pointers, for a copy that marks each of them.
    pub(super) fn pointers(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|node| node.pointer.as_str())
    }

    fn collect(&mut self, schema: &'s Value, pointer: String) -> Option<usize> {
        let object = schema.as_object()?;
        let index = self.nodes.len();
        self.pointers.insert(pointer.clone(), index);
        self.nodes.push(Node {
            pointer: pointer.clone(),
            schema: object,
            in_place: Vec::new(),
        });
        for (keyword, value) in object {
            let here = format!("{pointer}/{}", escape(keyword));
            let in_place = IN_PLACE_ONE.contains(&keyword.as_str())
                || IN_PLACE_MANY.contains(&keyword.as_str())
                || IN_PLACE_MAP.contains(&keyword.as_str());
            let children: Vec<(String, &'s Value)> = match keyword.as_str() {
                k if IN_PLACE_ONE.contains(&k) || INTO_DATA_ONE.contains(&k) => {
                    vec![(here, value)]
                }
                k if IN_PLACE_MANY.contains(&k) || INTO_DATA_MANY.contains(&k) => value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, item)| (format!("{here}/{i}"), item))
                    .collect(),
                k if IN_PLACE_MAP.contains(&k)
                    || INTO_DATA_MAP.contains(&k)
                    || DEFINITIONS.contains(&k) =>
                {
                    value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, item)| (format!("{here}/{}", escape(name)), item))
                        .collect()
                }
                _ => Vec::new(),
            };
            for (child_pointer, child) in children {
                if let Some(child) = self.collect(child, child_pointer)
                    && in_place
                {
                    self.nodes[index].in_place.push(child);
                }
            }
        }
        Some(index)
    }

    /// Refuses what could never finish checking, or could reach outside the schema.
    pub(super) fn check(mut self) -> Result<(), String> {
        for index in 0..self.nodes.len() {
            let node = &self.nodes[index];
            if index > 0 && node.schema.contains_key("$id") {
                return Err(format!(
                    "Only the schema's root may have an \"$id\" (found at \"{}\").",
                    node.pointer
                ));
            }
            let mut targets = Vec::new();
            for keyword in REFERENCES {
                let Some(reference) = node.schema.get(keyword) else {
                    continue;
                };
                let reference = reference.as_str().unwrap_or_default();
                targets.extend(self.resolve(keyword, reference)?);
            }
            self.nodes[index].in_place.extend(targets);
        }
        match self.in_place_loop() {
            None => Ok(()),
            Some(pointer) => Err(format!(
                "The schema at \"{pointer}\" refers back to itself (through $ref, allOf, anyOf, \
                 oneOf, not or if) without going into the data, so checking it would never \
                 end. Put the reference under properties or items."
            )),
        }
    }

    /// Where `reference` leads: a pointer or an anchor within this schema.
    fn resolve(&self, keyword: &str, reference: &str) -> Result<Vec<usize>, String> {
        let outside = || {
            format!(
                "{keyword} \"{reference}\" does not point at a schema within this one: use \"#\", \
                 \"#/$defs/name\" or \"#anchor\"."
            )
        };
        let fragment = reference.strip_prefix('#').ok_or_else(outside)?;
        let fragment = percent_encoding::percent_decode_str(fragment)
            .decode_utf8()
            .map_err(|_| outside())?;
        if fragment.is_empty() || fragment.starts_with('/') {
            let pointer = normalised_pointer(&fragment);
            return match self.pointers.get(&pointer) {
                Some(&index) => Ok(vec![index]),
                None => Err(outside()),
            };
        }
        let anchor_keys: &[&str] = match keyword {
            "$dynamicRef" => &["$dynamicAnchor", "$anchor"],
            _ => &["$anchor", "$dynamicAnchor"],
        };
        let anchored: Vec<usize> = (0..self.nodes.len())
            .filter(|&index| {
                anchor_keys.iter().any(|key| {
                    self.nodes[index].schema.get(*key).and_then(Value::as_str)
                        == Some(fragment.as_ref())
                })
            })
            .collect();
        match anchored.is_empty() {
            true => Err(outside()),
            false => Ok(anchored),
        }
    }

    /// A schema on a loop of in-place applications, if there is one: depth-first, with the
    /// path kept on an explicit stack.
    fn in_place_loop(&self) -> Option<&str> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::New; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if marks[start] != Mark::New {
                continue;
            }
            let mut stack = vec![(start, 0)];
            marks[start] = Mark::OnPath;
            while let Some((index, next)) = stack.last_mut() {
                let index = *index;
                match self.nodes[index].in_place.get(*next) {
                    Some(&child) => {
                        *next += 1;
                        match marks[child] {
                            Mark::OnPath => return Some(&self.nodes[child].pointer),
                            Mark::New => {
                                marks[child] = Mark::OnPath;
                                stack.push((child, 0));
                            }
                            Mark::Done => {}
                        }
                    }
                    None => {
                        marks[index] = Mark::Done;
                        stack.pop();
                    }
                }
            }
        }
        None
    }
}

/// A JSON pointer token, escaped.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The same pointer however its tokens were escaped: `~1`, `~0` and plain characters read
/// alike.
fn normalised_pointer(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|token| escape(&token.replace("~1", "/").replace("~0", "~")))
        .fold(String::new(), |pointer, token| pointer + "/" + &token)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(schema: Value) -> Result<(), String> {
        Subschemas::of(&schema).check()
    }

    #[test]
    fn recursion_through_the_data_is_fine() {
        let tree = json!({
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}
        });
        assert_eq!(check(tree), Ok(()));
        let defs = json!({
            "$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"
        });
        assert_eq!(check(defs), Ok(()));
    }

    #[test]
    fn a_loop_that_never_goes_into_the_data_is_refused() {
        for schema in [
            json!({"allOf": [{"$ref": "#"}]}),
            json!({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"}),
            json!({"$defs": {"a": {"$anchor": "here", "oneOf": [{"$ref": "#here"}]}}}),
        ] {
            let refused = check(schema.clone()).expect_err(&schema.to_string());
            assert!(refused.contains("never end"), "{refused}");
        }
    }

    #[test]
    fn references_must_stay_within_the_schema() {
        for reference in [
            "http://169.254.169.254/x",
            "#/$defs/missing",
            "#nowhere",
            "other.json#",
        ] {
            let refused = check(json!({"$ref": reference})).expect_err(reference);
            assert!(refused.contains("does not point"), "{refused}");
        }
        assert!(check(json!({"properties": {"a": {"$id": "https://x.example/a"}}})).is_err());
    }

    #[test]
    fn pointers_are_read_however_they_are_escaped() {
        let schema = json!({
            "$defs": {"a/b": {"type": "string"}, "c d": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/$defs/a~1b"}, "y": {"$ref": "#/$defs/c%20d"}}
        });
        assert_eq!(check(schema), Ok(()));
    }
}
