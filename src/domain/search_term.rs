//! What a customer quotes to find a delivery: a value inside an event's `data` or
//! `current_context`, or the `Idempotency-Key` its publisher sent. Each is kept as a hash of
//! its text, lower-cased and trimmed, so a lookup is one index probe whatever the event's
//! size; the value itself is found again in the event to say where it matched.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longer strings are documents, not identifiers anyone quotes.
const MAX_TERM_CHARS: usize = 200;
/// At most this many terms per event: a huge payload costs no more than a large one.
const MAX_TERMS: usize = 64;

/// A quoted value, hashed as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SearchTerm(i64);

impl SearchTerm {
    /// `None` for what is never stored: empty or too long.
    pub fn of(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_TERM_CHARS {
            return None;
        }
        let digest = Sha256::digest(text.to_lowercase().as_bytes());
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        // 63 bits: a positive BIGINT on either backend.
        Some(Self(i64::from_be_bytes(first) & i64::MAX))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// As one word of a full-text index: 16 hex digits.
    pub fn token(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// What someone typed into the Deliveries search: a delivery id (the `webhook-id` a
/// receiver got), an event id (`evt_42`), or a value a customer quotes. A number may be any
/// of these, so it is looked for as all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub text: String,
    pub delivery_id: Option<i64>,
    pub event_id: Option<i64>,
    pub term: Option<SearchTerm>,
}

/// Where a quote matched one delivery, said in words by its `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    DeliveryId(i64),
    EventId(i64),
    IdempotencyKey(String),
    Data { path: String, value: String },
    Context { path: String, value: String },
}

impl Quote {
    /// `None` for an empty search.
    pub fn parse(raw: &str) -> Option<Self> {
        let text = raw.trim();
        if text.is_empty() {
            return None;
        }
        let event_id = text
            .strip_prefix("evt_")
            .and_then(|id| id.parse().ok())
            .filter(|id: &i64| *id > 0);
        let delivery_id = text.parse().ok().filter(|id: &i64| *id > 0);
        Some(Self {
            text: text.to_owned(),
            delivery_id,
            event_id,
            term: SearchTerm::of(text),
        })
    }

    /// Why a delivery with this id, of this event (its data, context and idempotency key),
    /// matched: every place, the ids first.
    pub fn matches(
        &self,
        delivery_id: i64,
        event_id: i64,
        data: &Value,
        context: &Value,
        idempotency_key: Option<&str>,
    ) -> Vec<Matched> {
        let mut found = Vec::new();
        if self.delivery_id == Some(delivery_id) {
            found.push(Matched::DeliveryId(delivery_id));
        }
        if self.event_id == Some(event_id) {
            found.push(Matched::EventId(event_id));
        }
        if let Some(key) = idempotency_key.filter(|key| key.trim().eq_ignore_ascii_case(&self.text))
        {
            found.push(Matched::IdempotencyKey(key.to_owned()));
        }
        let value = || self.text.clone();
        found.extend(
            paths_of(data, &self.text)
                .into_iter()
                .map(|path| Matched::Data {
                    path,
                    value: value(),
                }),
        );
        found.extend(
            paths_of(context, &self.text)
                .into_iter()
                .map(|path| Matched::Context {
                    path,
                    value: value(),
                }),
        );
        found
    }
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DeliveryId(id) => write!(f, "delivery id {id} (its webhook-id)"),
            Self::EventId(id) => write!(f, "event id evt_{id}"),
            Self::IdempotencyKey(key) => write!(f, "Idempotency-Key = {key}"),
            Self::Data { path, value } if path.is_empty() => write!(f, "event data = {value}"),
            Self::Data { path, value } => write!(f, "event data {path} = {value}"),
            Self::Context { path, value } if path.is_empty() => {
                write!(f, "current context = {value}")
            }
            Self::Context { path, value } => write!(f, "current context {path} = {value}"),
        }
    }
}

/// The terms of an event: every string and number in `data` and `current_context`, and the
/// idempotency key; each once, at most [`MAX_TERMS`].
pub fn terms_of(data: &Value, context: &Value, idempotency_key: Option<&str>) -> Vec<SearchTerm> {
    let mut terms = Vec::new();
    terms.extend(idempotency_key.and_then(SearchTerm::of));
    for root in [data, context] {
        leaves(root, &mut |text| {
            if terms.len() < MAX_TERMS
                && let Some(term) = SearchTerm::of(text)
                && !terms.contains(&term)
            {
                terms.push(term);
            }
        });
    }
    terms
}

/// Where `quoted` is inside `value`: the dotted path of each string or number equal to it
/// (ignoring case and surrounding spaces), e.g. `order.id` or `items[0].sku`.
pub fn paths_of(value: &Value, quoted: &str) -> Vec<String> {
    let wanted = quoted.trim().to_lowercase();
    let mut found = Vec::new();
    let mut path = Vec::new();
    walk(value, &mut path, &mut |path, text| {
        if text.trim().to_lowercase() == wanted {
            found.push(path.to_owned());
        }
    });
    found
}

/// Every string and number, without their paths: what ingest pays for.
fn leaves(value: &Value, each: &mut impl FnMut(&str)) {
    match value {
        Value::String(text) => each(text),
        Value::Number(number) => each(&number.to_string()),
        Value::Array(items) => items.iter().for_each(|item| leaves(item, each)),
        Value::Object(fields) => fields.values().for_each(|field| leaves(field, each)),
        Value::Null | Value::Bool(_) => {}
    }
}

fn walk(value: &Value, path: &mut Vec<String>, each: &mut impl FnMut(&str, &str)) {
    match value {
        Value::String(text) => each(&joined(path), text),
        Value::Number(number) => each(&joined(path), &number.to_string()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(format!("[{index}]"));
                walk(item, path, each);
                path.pop();
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields {
                path.push(name.clone());
                walk(field, path, each);
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn joined(path: &[String]) -> String {
    let mut text = String::new();
    for part in path {
        if !text.is_empty() && !part.starts_with('[') {
            text.push('.');
        }
        text.push_str(part);
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_string_and_number_and_the_key_is_a_term_once() {
        let data = json!({"order": {"id": "ord_7731", "total": 49.9, "items": [{"sku": "BOOK-1", "qty": 1}], "paid": true}});
        let context = json!({"tenant": "acme-eu", "again": "ORD_7731"});
        let terms = terms_of(&data, &context, Some("order-7731-paid"));

        for quoted in [
            "ord_7731",
            "ORD_7731 ",
            "49.9",
            "book-1",
            "1",
            "acme-eu",
            "order-7731-paid",
        ] {
            assert!(terms.contains(&SearchTerm::of(quoted).unwrap()), "{quoted}");
        }
        assert_eq!(terms.len(), 6, "ord_7731 once, the boolean never");
        assert!(SearchTerm::of("   ").is_none());
    }

    #[test]
    fn a_match_is_found_again_by_its_path() {
        let data =
            json!({"order": {"id": "ord_7731", "items": [{"sku": "X"}, {"sku": "ord_7731"}]}});
        assert_eq!(
            paths_of(&data, "ORD_7731"),
            ["order.id", "order.items[1].sku"]
        );
        assert!(paths_of(&data, "nothing").is_empty());
    }

    #[test]
    fn a_number_is_looked_for_as_an_id_and_a_value_and_says_where_it_matched() {
        let quote = Quote::parse(" 7731 ").unwrap();
        assert_eq!(quote.delivery_id, Some(7731));
        assert_eq!(quote.event_id, None);
        assert_eq!(quote.term, SearchTerm::of("7731"));
        let matched = quote.matches(
            7731,
            9,
            &json!({"order": {"number": 7731}}),
            &json!({}),
            None,
        );
        assert_eq!(
            matched.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "delivery id 7731 (its webhook-id)",
                "event data order.number = 7731"
            ]
        );
        assert_eq!(Quote::parse("evt_42").unwrap().event_id, Some(42));
        assert!(Quote::parse("  ").is_none());
        let keyed = Quote::parse("order-7731-paid").unwrap();
        assert_eq!(
            keyed.matches(
                1,
                2,
                &json!({}),
                &json!({"tenant": "x"}),
                Some("order-7731-paid")
            )[0]
            .to_string(),
            "Idempotency-Key = order-7731-paid"
        );
    }

    #[test]
    fn a_huge_payload_gives_a_bounded_number_of_terms() {
        let data = json!((0..10_000).collect::<Vec<_>>());
        assert_eq!(terms_of(&data, &json!({}), None).len(), MAX_TERMS);
    }
}
