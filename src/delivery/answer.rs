//! What the delivery log keeps of a receiver's answer: the first KiB of its body and of its
//! headers, as text, with any secret the receiver echoed masked, in whatever form it came
//! back (as sent, JSON-escaped the way PHP and others write it, URL-encoded, base64, in
//! another case). A secret too short to mask safely (its every copy masked would spell it
//! out) hides the whole excerpt instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use memchr::memmem::Finder;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;

/// What the delivery log keeps of an answer.
const EXCERPT_LIMIT: usize = 1024;
/// Stands in for a secret in what is kept of an answer.
const MASK: &str = "••••••••";
/// Secrets shorter than this are not masked but hide the excerpt: masking every copy of two
/// characters tells the reader which two characters they are.
const MASKABLE_CHARS_AT_LEAST: usize = 8;
/// Kept instead of an excerpt that may hold a secret too short to mask.
const HIDDEN: &str = "(hidden: it may contain a secret; a secret of this webhook is shorter \
                          than 8 characters, too short to mask)";
/// A base64 copy shorter than this is no evidence of a secret (it would mask noise).
const ENCODED_CHARS_AT_LEAST: usize = 8;

/// The secrets of one delivery, in every form a receiver might echo them, lower-cased for
/// matching without regard to case (Unicode's lower case, character by character).
/// Built once per webhook and its secrets (see `worker::send`): each try then only searches.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    forms: Vec<Finder<'static>>,
    too_short: bool,
}

impl Secrets {
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut given = Vec::new();
        let mut too_short = false;
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.is_empty() {
                continue;
            }
            too_short |= secret.chars().count() < MASKABLE_CHARS_AT_LEAST;
            given.extend(forms_of(secret));
        }
        let mut forms: Vec<String> = given.iter().map(|form| form.to_lowercase()).collect();
        // Longest first, so a longer form is masked whole before a shorter one inside it.
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.dedup();
        let forms = forms
            .iter()
            .map(|form| Finder::new(form.as_bytes()).into_owned())
            .collect();
        Self { forms, too_short }
    }

    /// `text` with every copy of every form masked; [`HIDDEN`] when a secret is too short.
    fn masked(&self, text: &str) -> String {
        if self.too_short {
            return HIDDEN.to_owned();
        }
        if self.forms.is_empty() {
            return text.to_owned();
        }
        // Lower-cased character by character, remembering where each byte came from.
        let mut folded = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            for lower in c.to_lowercase() {
                folded.push(lower);
                origin.resize(folded.len(), at);
            }
        }
        let mut covered = vec![false; text.len()];
        for form in &self.forms {
            for start in form.find_iter(folded.as_bytes()) {
                let end = start + form.needle().len() - 1;
                let (first, last) = (origin[start], origin[end]);
                covered[first..=last].fill(true);
            }
        }
        if !covered.contains(&true) {
            return text.to_owned();
        }
        let mut masked = String::with_capacity(text.len());
        let mut in_mask = false;
        for (at, c) in text.char_indices() {
            match (covered[at], in_mask) {
                (true, false) => masked.push_str(MASK),
                (false, _) => masked.push(c),
                (true, true) => {}
            }
            in_mask = covered[at];
        }
        masked
    }
}

/// Webhooks whose [`Secrets`] are kept at most; beyond, the cache starts again.
const CACHED_WEBHOOKS: usize = 10_000;

/// Each webhook's [`Secrets`], built again only when its secrets change: building them
/// (every form of every secret, and a searcher for each) costs more than the searches.
#[derive(Default)]
pub struct SecretsCache(Mutex<HashMap<i64, Cached>>);

/// A webhook's secrets as given, and what was built of them.
type Cached = (Vec<String>, Arc<Secrets>);

impl SecretsCache {
    pub fn of(&self, webhook_id: i64, given: Vec<String>) -> Arc<Secrets> {
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, secrets)) = cache.get(&webhook_id)
            && *known == given
        {
            return secrets.clone();
        }
        if cache.len() >= CACHED_WEBHOOKS {
            cache.clear();
        }
        let secrets = Arc::new(Secrets::new(&given));
        cache.insert(webhook_id, (given, secrets.clone()));
        secrets
    }
}

/// The ways a receiver may echo `secret`: as sent, JSON-escaped (with `\/` and `\u00e9`,
/// as PHP writes), URL-encoded (`%2F` and `+`), and base64 at each alignment.
fn forms_of(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let mut php = String::new();
    for c in json.chars() {
        match c {
            '/' => php.push_str("\\/"),
            c if c.is_ascii() => php.push(c),
            c => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    php.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    let percent = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut forms = vec![secret.to_owned(), json, php, percent, form];
    forms.extend(base64_cores(secret.as_bytes()));
    forms
}

/// The part of a base64 text that depends on `secret` alone, at each of the three byte
/// offsets it may start at within a longer encoded value (`user:secret` in Basic auth).
fn base64_cores(secret: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret);
        for engine in [&STANDARD, &URL_SAFE] {
            let encoded = engine.encode(&bytes);
            let encoded = encoded.trim_end_matches('=');
            // Characters that share bits with what comes before or after the secret.
            let leading = (offset * 8).div_ceil(6);
            let trailing = usize::from((bytes.len() * 8) % 6 != 0);
            if encoded.len() >= leading + trailing + ENCODED_CHARS_AT_LEAST {
                cores.push(encoded[leading..encoded.len() - trailing].to_owned());
            }
        }
    }
    cores
}

/// At most [`EXCERPT_LIMIT`] bytes, cut at a character boundary, as text. NUL becomes the
/// replacement character: PostgreSQL stores no NUL in text, and the page shows something was
/// there.
pub(super) fn excerpt(body: &[u8], secrets: &Secrets) -> String {
    // Masked before the cut, so a secret across the cut leaves no part of itself.
    let text = secrets.masked(&String::from_utf8_lossy(body));
    let mut end = text.len().min(EXCERPT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].replace('\0', "\u{FFFD}")
}

/// The answer's headers, one `name: value` per line, at most [`EXCERPT_LIMIT`] bytes.
pub(super) fn headers_excerpt(headers: &HeaderMap, secrets: &Secrets) -> String {
    let mut lines = String::new();
    for (name, value) in headers {
        let line = format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes()));
        if lines.len() + line.len() > EXCERPT_LIMIT {
            break;
        }
        lines.push_str(&line);
    }
    secrets.masked(&lines)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    const KEY: &str = "Key/With/Slash+é 42";

    #[test]
    fn a_nul_in_the_answer_is_kept_as_a_replacement_character() {
        assert_eq!(excerpt(b"ok\0then", &Secrets::default()), "ok\u{FFFD}then");
    }

    #[test]
    fn an_excerpt_is_at_most_a_kibibyte_of_whole_characters() {
        let body = "é".repeat(1000);
        let cut = excerpt(body.as_bytes(), &Secrets::default());
        assert!(cut.len() <= EXCERPT_LIMIT);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn an_echoed_secret_is_masked_even_across_the_cut() {
        let key = "sk_live_0123456789";
        let secrets = Secrets::new([key]);
        let body = format!("{}{key} and again {key}", "x".repeat(EXCERPT_LIMIT - 5));
        let cut = excerpt(body.as_bytes(), &secrets);
        assert!(!cut.contains("sk_live"), "{cut}");
        let mut headers = HeaderMap::new();
        headers.insert("x-echo-api-key", HeaderValue::from_str(key).unwrap());
        assert_eq!(
            headers_excerpt(&headers, &secrets),
            format!("x-echo-api-key: {MASK}\n")
        );
    }

    #[test]
    fn a_secret_echoed_in_any_form_is_masked() {
        let secrets = Secrets::new([KEY]);
        let php = r#"{"X-Api-Key":"Key\/With\/Slash+\u00e9 42"}"#;
        let basic = STANDARD.encode(format!("user:{KEY}"));
        let echoes = [
            format!(r#"{{"key": {}}}"#, serde_json::to_string(KEY).unwrap()),
            php.to_owned(),
            KEY.to_lowercase(),
            KEY.to_uppercase(),
            format!("?key={}", utf8_percent_encode(KEY, NON_ALPHANUMERIC)),
            format!(
                "key={}",
                url::form_urlencoded::byte_serialize(KEY.as_bytes()).collect::<String>()
            ),
            format!("Authorization: Basic {basic}"),
            format!("b64={}", URL_SAFE.encode(format!("ab{KEY}"))),
        ];
        for echo in echoes {
            let kept = excerpt(echo.as_bytes(), &secrets);
            assert!(kept.contains(MASK), "{echo} → {kept}");
            for part in ["Slash", "slash", "SLASH", "L1NsYXNo", "U2xhc2"] {
                assert!(!kept.contains(part), "{echo} → {kept}");
            }
        }
    }

    #[test]
    fn a_secret_too_short_to_mask_hides_the_whole_excerpt() {
        let secrets = Secrets::new(["ab"]);
        assert_eq!(excerpt(b"abracadabra", &secrets), HIDDEN);
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("ab"));
        assert_eq!(headers_excerpt(&headers, &secrets), HIDDEN);
    }

    #[test]
    fn an_answer_without_secrets_is_kept_as_it_is() {
        let secrets = Secrets::new([KEY]);
        assert_eq!(excerpt(b"{\"ok\": true}", &secrets), "{\"ok\": true}");
    }

    #[test]
    fn a_webhooks_secrets_are_built_once_and_again_when_they_change() {
        let cache = SecretsCache::default();
        let first = cache.of(7, vec![KEY.to_owned()]);
        assert!(Arc::ptr_eq(&first, &cache.of(7, vec![KEY.to_owned()])));
        let rotated = cache.of(7, vec!["sk_live_rotated_0123".to_owned()]);
        assert!(!Arc::ptr_eq(&first, &rotated));
        assert_eq!(
            excerpt(KEY.as_bytes(), &rotated),
            KEY,
            "the old key is not masked"
        );
        assert_eq!(excerpt(b"sk_live_rotated_0123", &rotated), MASK);
    }
}
