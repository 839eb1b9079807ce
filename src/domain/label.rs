//! Names and labels that people type and others read: webhook and token names, event-type
//! groups and descriptions.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use validator::ValidationError;

use super::invalid;

/// Characters a reader cannot see, as the body of a regex class: controls, and the Unicode
/// format characters (category Cf) of the Basic Multilingual Plane — zero-width spaces and
/// joiners, bidi marks, embeddings, overrides and isolates, the byte-order mark. Written
/// as `\u` and four hex digits, which JSON Schema's, Python's and Rust's regex dialects
/// all read.
macro_rules! hidden_characters {
    () => {
        r"\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    };
}

/// At least one visible character and nothing hidden, as a JSON Schema pattern. The server
/// refuses the rare format characters beyond the Basic Multilingual Plane too.
pub const NAME_PATTERN: &str = concat!(
    "^[^",
    hidden_characters!(),
    "]*[^\\s",
    hidden_characters!(),
    "][^",
    hidden_characters!(),
    "]*$"
);

/// A name or label as stored: trimmed, in Unicode's composed form (NFC, so an "é" typed as
/// one character and one typed as "e" + accent are the same name), with a visible character
/// and no control or format character, which could make look-alikes ("CRM hook" and
/// "CRM hook" + a zero-width space) or turn the text around (a right-to-left override).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    /// `max_chars` counts the text as sent, before trimming, as a form's `maxlength` and a
    /// schema's `maxLength` count. `required` is the message for a blank value.
    pub fn parse(raw: &str, max_chars: usize, required: &str) -> Result<Self, ValidationError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(invalid("required", required.to_owned()));
        }
        if raw.chars().count() > max_chars {
            return Err(invalid(
                "too_long",
                format!("Use at most {max_chars} characters."),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid(
                "control_characters",
                "Use letters, digits, spaces and punctuation only.",
            ));
        }
        if text.chars().any(is_format_character) {
            return Err(invalid(
                "invisible_characters",
                "Remove the invisible characters (such as zero-width spaces or text-direction marks).",
            ));
        }
        Ok(Self(text.nfc().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The form uniqueness is checked on, so "Orders", "orders" and "ÖRDERS"/"örders" are
    /// each one name whatever the script.
    pub fn folded(&self) -> String {
        self.0.to_lowercase().nfc().collect()
    }
}

/// Invisible and bidi control characters (Unicode category Cf).
pub fn is_format_character(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn parse(raw: &str) -> Result<Label, ValidationError> {
        Label::parse(raw, 100, "Enter a name.")
    }

    #[test]
    fn look_alikes_and_direction_tricks_are_refused() {
        for trick in [
            "CRM hook\u{200b}",
            "CRM\u{200d}hook",
            "\u{feff}CRM hook",
            "CRM \u{202e}kooh",
            "CRM \u{2066}hook\u{2069}",
            "CRM\u{00ad}hook",
            "CRM hook\u{e0041}",
        ] {
            assert!(parse(trick).is_err(), "{trick:?}");
        }
    }

    #[test]
    fn composed_and_decomposed_spellings_are_one_name() {
        let composed = parse("Caf\u{e9} orders").unwrap();
        let decomposed = parse("Cafe\u{301} orders").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(
            parse("CAFE\u{301} ORDERS").unwrap().folded(),
            composed.folded()
        );
    }

    #[test]
    fn the_published_pattern_says_what_the_server_says_for_every_basic_plane_character() {
        let pattern = Regex::new(NAME_PATTERN).unwrap();
        for c in '\0'..='\u{ffff}' {
            let text = format!("a{c}b");
            assert_eq!(
                pattern.is_match(&text),
                parse(&text).is_ok(),
                "U+{:04X}",
                c as u32
            );
        }
    }
}
