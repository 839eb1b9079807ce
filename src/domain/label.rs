//! Names and labels that people type and others read: webhook and token names, event-type
//! groups and descriptions.

use icu_properties::CodePointSetData;
use icu_properties::props::DefaultIgnorableCodePoint;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use validator::ValidationError;

use super::invalid;

/// Characters a reader cannot see, as the body of a regex class, for the Basic Multilingual
/// Plane: controls, format characters (category Cf: zero-width spaces and joiners, bidi
/// marks, embeddings, overrides and isolates, the byte-order mark), the rest of Unicode's
/// Default_Ignorable_Code_Point (Hangul fillers, the combining grapheme joiner, variation
/// selectors) and the blank Braille pattern. Written as `\u` and four hex digits, which
/// JSON Schema's, Python's and Rust's regex dialects all read.
macro_rules! hidden_characters {
    () => {
        r"\x00-\x1f\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
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
/// and no control or invisible character, which could make look-alikes ("Prod" and "Prod" +
/// a Hangul filler) or turn the text around (a right-to-left override).
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
        if text.chars().any(is_invisible) {
            return Err(invalid(
                "invisible_characters",
                "Remove the invisible characters (such as zero-width spaces, blank fillers or text-direction marks).",
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

    /// The form lists sort and search on, so "Orders", "orders" and "ÖRDERS"/"örders" are
    /// each one name whatever the script.
    pub fn folded(&self) -> String {
        folded(&self.0)
    }

    /// The form uniqueness is checked on, beside [`Self::folded`]: two names that look
    /// alike share it. It is the confusable skeleton of Unicode TR39, lower-cased and
    /// skeletonised again (so a capital that looks like another script's capital, "В" and
    /// "B", and a lower-case look-alike, "ρ" and "p", are both found), with each run of
    /// spaces as one: "Prod", "PROD", "Ρrod" with a Greek Rho, "Prоd" with a Cyrillic o and
    /// "Ｐrod" written full width are one name. Only for comparing: "m" becomes "rn".
    pub fn look_alike_key(&self) -> String {
        look_alike_key(&self.0)
    }
}

/// Spaces narrow enough to pass unseen between two letters ("Pro" + a hair space + "d"
/// reads "Prod"): the key leaves them out, where TR39 would make them a whole space.
const NARROW_SPACES: [char; 6] = [
    '\u{2006}', '\u{2008}', '\u{2009}', '\u{200a}', '\u{202f}', '\u{205f}',
];

/// [`Label::look_alike_key`] of any text, for names stored before it existed.
pub fn look_alike_key(text: &str) -> String {
    let visible: String = text
        .chars()
        .filter(|c| !NARROW_SPACES.contains(c))
        .collect();
    let lower = unicode_security::skeleton(&visible)
        .collect::<String>()
        .to_lowercase();
    let mut key = String::with_capacity(lower.len());
    for c in unicode_security::skeleton(&lower) {
        if !(c.is_whitespace() && key.ends_with(char::is_whitespace)) {
            key.push(if c.is_whitespace() { ' ' } else { c });
        }
    }
    key
}

fn folded(text: &str) -> String {
    text.trim()
        .nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

/// Whether two names are one to a reader: the same whatever the case, or alike to the eye.
pub fn looks_alike(a: &str, b: &str) -> bool {
    folded(a) == folded(b) || look_alike_key(a) == look_alike_key(b)
}

/// Why a name cannot be used: `existing` (of the kind `what`, e.g. "webhook") has it, or a
/// name that looks like it.
pub fn name_taken_message(what: &str, typed: &str, existing: &str) -> String {
    if folded(typed) == folded(existing) {
        let article = match what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            true => "An",
            false => "A",
        };
        format!("{article} {what} named “{existing}” already exists. Choose another name.")
    } else {
        format!(
            "“{}” looks like the name of the {what} “{existing}”. Choose a clearly different name.",
            typed.trim()
        )
    }
}

/// Invisible and bidi control characters (Unicode category Cf).
pub fn is_format_character(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

/// What renders as nothing: format characters, Unicode's default-ignorable code points
/// (fillers, variation selectors, the combining grapheme joiner) and the blank Braille
/// pattern, which fonts draw empty.
fn is_invisible(c: char) -> bool {
    const BRAILLE_BLANK: char = '\u{2800}';
    is_format_character(c)
        || c == BRAILLE_BLANK
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
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
    fn blank_fillers_and_selectors_are_refused() {
        for filler in [
            '\u{3164}',
            '\u{115f}',
            '\u{1160}',
            '\u{ffa0}',
            '\u{2800}',
            '\u{034f}',
            '\u{fe0f}',
            '\u{e0101}',
            '\u{180b}',
            '\u{17b4}',
        ] {
            assert!(parse(&format!("Prod{filler}")).is_err(), "{filler:?}");
            assert!(parse(&format!("Pr{filler}od")).is_err(), "{filler:?}");
        }
    }

    #[test]
    fn names_that_look_alike_share_a_key() {
        let key = |raw: &str| parse(raw).unwrap().look_alike_key();
        for look_alike in [
            "prod",
            "PROD",
            "\u{3a1}rod",
            "\u{3a1}ROD",
            "Pr\u{43e}d",
            "\u{ff30}rod",
            "\u{ff30}\u{ff52}\u{ff4f}\u{ff44}",
        ] {
            assert_eq!(key(look_alike), key("Prod"), "{look_alike:?}");
        }
        assert_eq!(key("\u{412}illing"), key("Billing"), "Cyrillic capital Ve");
        assert_eq!(key("Ilama"), key("llama"), "capital i and small L");
        assert_eq!(key("Pro\u{200a}d"), key("Prod"), "a hair space");
        assert_eq!(key("CRM  hook"), key("CRM hook"));
        assert_eq!(key("CRM\u{a0}hook"), key("CRM hook"));
        assert_ne!(key("Prod"), key("Prod 2"));
        assert_ne!(key("Billing"), key("Shipping"));
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
