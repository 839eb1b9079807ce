//! Standard Webhooks signing: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`,
//! keyed with the bytes behind a `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::Timestamp;

/// A `whsec_` secret could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the signing secret is not `whsec_` and base64")]
pub struct BadSecret;

/// One signing key, decoded from its `whsec_` form.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn parse(secret: &str) -> Result<Self, BadSecret> {
        let encoded = secret.strip_prefix("whsec_").ok_or(BadSecret)?;
        STANDARD.decode(encoded).map(Self).map_err(|_| BadSecret)
    }

    /// `v1,<base64 signature>` of this message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per key, space-separated, so receivers
/// accept either while a secret is being rotated.
pub fn signature_header(keys: &[SigningKey], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| key.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `header` (a `webhook-signature` value: space-separated `v1,<base64>`) holds this
/// key's signature of the message; compared in constant time.
pub fn signed_by(key: &SigningKey, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    let expected = key.sign(id, timestamp, body);
    header
        .split_whitespace()
        .any(|candidate| bool::from(candidate.as_bytes().ct_eq(expected.as_bytes())))
}

/// A request someone received, as pasted into "Check a request".
pub struct Received<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
    pub body: &'a str,
}

/// What a check of a received request against a webhook's secrets found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Signed by one of the webhook's secrets at `sent_at`. `previous`: by the secret that
    /// a rotation replaced, which signed until `previous_until`. `line_endings`: only once
    /// the body's Windows line endings (added by pasting) were read as `\n`.
    Genuine {
        sent_at: Timestamp,
        previous_until: Option<Timestamp>,
        line_endings: bool,
    },
    /// No signature matches this id, timestamp and body with any of the secrets.
    NoMatch,
    /// The header holds no `v1,` signature.
    NoSignature,
    /// The timestamp is not whole seconds since 1970.
    BadTimestamp,
}

/// The last second of year 9999: a timestamp beyond it is no time a console sent.
const LATEST_SECONDS: i64 = 253_402_300_799;

/// Whole seconds since 1970 as senders write them: digits only (no sign, no spaces
/// inside), up to year 9999.
fn unix_seconds(timestamp: &str) -> Option<i64> {
    let digits = timestamp.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<i64>()
        .ok()
        .filter(|seconds| *seconds <= LATEST_SECONDS)
}

/// Checks `received` against the current secret and the one a rotation replaced (with when
/// that one stopped, or stops, signing).
pub fn check(
    received: &Received,
    current: &SigningKey,
    previous: Option<(&SigningKey, Timestamp)>,
) -> Finding {
    let Some(seconds) = unix_seconds(received.timestamp) else {
        return Finding::BadTimestamp;
    };
    if !received
        .signature
        .split_whitespace()
        .any(|part| part.starts_with("v1,"))
    {
        return Finding::NoSignature;
    }
    let id = received.id.trim();
    let unix_newlines = received.body.replace("\r\n", "\n");
    let bodies = [(received.body, false), (unix_newlines.as_str(), true)];
    let keys =
        std::iter::once((current, None)).chain(previous.map(|(key, until)| (key, Some(until))));
    for (key, previous_until) in keys {
        for (body, line_endings) in bodies {
            if signed_by(key, received.signature, id, seconds, body.as_bytes()) {
                return Finding::Genuine {
                    sent_at: Timestamp::from_unix_ms(seconds.saturating_mul(1000)),
                    previous_until,
                    line_endings: line_endings && body != received.body,
                };
            }
        }
    }
    Finding::NoMatch
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_timestamp_is_digits_only_and_a_time_a_console_could_send() {
        assert_eq!(unix_seconds(" 1733475600 "), Some(1_733_475_600));
        for unreadable in ["+5", "-5", "1e9", "99999999999999", "", "17 33", "٣"] {
            assert_eq!(unix_seconds(unreadable), None, "{unreadable:?}");
        }
    }

    use super::*;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            key.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_without_its_prefix_is_refused() {
        assert!(SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(SigningKey::parse("whsec_not base64!").is_err());
    }

    fn received<'a>(signature: &'a str, body: &'a str) -> Received<'a> {
        Received {
            id: "msg_1",
            timestamp: "1614265330",
            signature,
            body,
        }
    }

    #[test]
    fn a_genuine_request_is_told_apart_from_an_altered_one() {
        let current = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = current.sign("msg_1", 1614265330, b"{\"a\":1}");

        assert!(matches!(
            check(&received(&signature, "{\"a\":1}"), &current, None),
            Finding::Genuine {
                previous_until: None,
                line_endings: false,
                ..
            }
        ));
        assert_eq!(
            check(&received(&signature, "{\"a\":2}"), &current, None),
            Finding::NoMatch
        );
        assert_eq!(
            check(&received("v2,abc", "{\"a\":1}"), &current, None),
            Finding::NoSignature
        );
    }

    #[test]
    fn a_request_signed_by_the_replaced_secret_says_until_when_it_signed() {
        let old = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let new = SigningKey::parse("whsec_c2VjcmV0LXR3by1mb3ItdGVzdHM=").unwrap();
        let until = Timestamp::from_unix_ms(1_614_300_000_000);
        let signature = old.sign("msg_1", 1614265330, b"{}\n");

        assert_eq!(
            check(&received(&signature, "{}\r\n"), &new, Some((&old, until))),
            Finding::Genuine {
                sent_at: Timestamp::from_unix_ms(1_614_265_330_000),
                previous_until: Some(until),
                line_endings: true,
            }
        );
    }
}
