use std::fmt;

use validator::ValidationError;

use super::{OperationalEvent, invalid};

/// An event type's key, `group.name` in lower case, e.g. `order.purchased`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTypeKey(String);

impl EventTypeKey {
    /// Keys travel in every delivery body and header; long ones only cost.
    pub const MAX_CHARS: usize = 100;
    /// Types not archived, at most: every picker and the catalog page list them all.
    pub const CATALOG_LIMIT: usize = 1000;
    const TEST: &'static str = "webhook.test";
    /// The group the console's own types are listed under; hosts register elsewhere.
    pub const CONSOLES_GROUP: &'static str = "System";
    const CONSOLES_NAMESPACES: [&'static str; 2] = ["webhook.", "delivery."];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let well_formed = raw.len() <= Self::MAX_CHARS
            && raw.split('.').count() >= 2
            && raw.split('.').all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid(
                "event_type_format",
                format!(
                    "“{raw}” is not an event type key: use lower-case words joined by dots, like order.purchased."
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `webhook.test` goes only to the webhook whose "Send test event" was pressed,
    /// so no webhook subscribes to it.
    pub fn is_subscribable(&self) -> bool {
        self.0 != Self::TEST
    }

    /// Published by the console alone (`webhook.test` by "Send test event", the
    /// operational events by the engine): nobody publishes, changes or archives them.
    pub fn is_the_consoles_own(&self) -> bool {
        self.0 == Self::TEST || OperationalEvent::TYPES.contains(&self.as_str())
    }

    /// In a namespace the console keeps for its own events (`webhook.*`, `delivery.*`): a
    /// host's type there could pass for one the console sent.
    pub fn is_in_the_consoles_namespace(&self) -> bool {
        Self::CONSOLES_NAMESPACES
            .iter()
            .any(|namespace| self.0.starts_with(namespace))
    }

    /// What publishing, changing or archiving it answers, in words.
    pub fn why_the_consoles_own(&self) -> String {
        if self.0 == Self::TEST {
            "webhook.test is sent only by “Send test event”, to one webhook.".to_owned()
        } else {
            format!(
                "{} is published by the console itself, about its webhooks.",
                self.0
            )
        }
    }
}

impl fmt::Display for EventTypeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which events a webhook receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelection {
    /// Every event type, including types registered after the webhook was saved.
    All,
    Only(Vec<EventTypeKey>),
}

impl EventSelection {
    /// The value that stands for "All events" in forms and in the API.
    pub const ALL: &'static str = "*";

    /// `catalog` holds the keys that exist: a webhook cannot subscribe to an unknown type,
    /// not even beside "All events".
    pub fn parse(raw: &[String], catalog: &[EventTypeKey]) -> Result<Self, ValidationError> {
        if raw.is_empty() {
            return Err(invalid(
                "required",
                "Choose at least one event, or All events.",
            ));
        }
        let mut keys = Vec::with_capacity(raw.len());
        for key in raw.iter().filter(|key| *key != Self::ALL) {
            match catalog.iter().find(|known| known.as_str() == key) {
                Some(known) => keys.push(known.clone()),
                None => {
                    return Err(invalid(
                        "unknown_event_type",
                        format!("“{key}” is not in the event catalog."),
                    ));
                }
            }
        }
        if raw.iter().any(|key| key == Self::ALL) {
            return Ok(Self::All);
        }
        keys.sort();
        keys.dedup();
        Ok(Self::Only(keys))
    }
}

impl EventSelection {
    /// The selection as forms submit it and the API takes it: keys, or `["*"]` for all.
    pub fn to_input(&self) -> Vec<String> {
        match self {
            Self::All => vec![Self::ALL.to_owned()],
            Self::Only(keys) => keys.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<EventTypeKey> {
        ["order.purchased", "user.signed_up"]
            .into_iter()
            .map(|k| EventTypeKey::parse(k).unwrap())
            .collect()
    }

    #[test]
    fn keys_are_lower_case_dotted_words() {
        assert!(EventTypeKey::parse("order.purchased").is_ok());
        assert!(EventTypeKey::parse("billing.invoice.paid_2").is_ok());
        for bad in [
            "order",
            "Order.purchased",
            "order..x",
            ".order",
            "order.",
            "order.9x",
            "a b.c",
        ] {
            assert!(EventTypeKey::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_selection_needs_known_types_or_all() {
        let catalog = catalog();
        assert!(EventSelection::parse(&[], &catalog).is_err());
        assert!(EventSelection::parse(&["order.nope".into()], &catalog).is_err());
        assert_eq!(
            EventSelection::parse(&["*".into()], &catalog).unwrap(),
            EventSelection::All
        );
        assert!(EventSelection::parse(&["*".into(), "order.nope".into()], &catalog).is_err());
        let picked = [
            "user.signed_up".into(),
            "order.purchased".into(),
            "order.purchased".into(),
        ];
        assert_eq!(
            EventSelection::parse(&picked, &catalog).unwrap(),
            EventSelection::Only(catalog)
        );
    }
}
