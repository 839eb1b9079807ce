//! What the delivery log keeps of a receiver's answer: the first KiB of its body and of its
//! headers, as text, with any secret the receiver echoed masked.

use reqwest::header::HeaderMap;

/// What the delivery log keeps of an answer.
const EXCERPT_LIMIT: usize = 1024;

/// At most [`EXCERPT_LIMIT`] bytes, cut at a character boundary, as text. NUL becomes the
/// replacement character: PostgreSQL stores no NUL in text, and the page shows something was
/// there.
pub(super) fn excerpt(body: &[u8], secrets: &[String]) -> String {
    // Masked before the cut, so a secret across the cut leaves no part of itself.
    let text = masked(&String::from_utf8_lossy(body), secrets);
    let mut end = text.len().min(EXCERPT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].replace('\0', "\u{FFFD}")
}

/// The answer's headers, one `name: value` per line, at most [`EXCERPT_LIMIT`] bytes.
pub(super) fn headers_excerpt(headers: &HeaderMap, secrets: &[String]) -> String {
    let mut lines = String::new();
    for (name, value) in headers {
        let value = masked(&String::from_utf8_lossy(value.as_bytes()), secrets);
        let line = format!("{name}: {value}\n");
        if lines.len() + line.len() > EXCERPT_LIMIT {
            break;
        }
        lines.push_str(&line);
    }
    lines
}

/// Stands in for a secret in what is kept of an answer.
const MASK: &str = "••••••••";

fn masked(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret.as_str(), MASK)
        })
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn a_nul_in_the_answer_is_kept_as_a_replacement_character() {
        assert_eq!(excerpt(b"ok\0then", &[]), "ok\u{FFFD}then");
    }

    #[test]
    fn an_excerpt_is_at_most_a_kibibyte_of_whole_characters() {
        let body = "é".repeat(1000);
        let cut = excerpt(body.as_bytes(), &[]);
        assert!(cut.len() <= EXCERPT_LIMIT);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn an_echoed_secret_is_masked_even_across_the_cut() {
        let key = "sk_live_0123456789".to_owned();
        let body = format!("{}{key} and again {key}", "x".repeat(EXCERPT_LIMIT - 5));
        let cut = excerpt(body.as_bytes(), std::slice::from_ref(&key));
        assert!(!cut.contains("sk_live"), "{cut}");
        let mut headers = HeaderMap::new();
        headers.insert("x-echo-api-key", HeaderValue::from_str(&key).unwrap());
        assert_eq!(
            headers_excerpt(&headers, &[key]),
            format!("x-echo-api-key: {MASK}\n")
        );
    }
}
