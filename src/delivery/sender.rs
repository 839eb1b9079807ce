//! One HTTP try of a delivery, with the one shared client: keep-alive, no redirects, no proxy
//! from the environment, TLS verified, the outbound guard at connect time, and at most a few
//! KiB of any answer read.

use std::borrow::Cow;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::redirect::Policy;
use url::Host;

use super::answer::{Secrets, excerpt, headers_excerpt};
use super::signature::{SigningKey, signature_header};
use super::target_guard::{Blocked, GuardedResolver, NotResolved, TargetGuard};
use crate::clock::Timestamp;
use crate::domain::AttemptErrorCode;
use crate::domain::receiver_health::Signal;

/// How deliveries introduce themselves; the delivery page shows the same.
pub const USER_AGENT: &str = concat!("webhook-console/", env!("CARGO_PKG_VERSION"));

/// The headers every try of a delivery carries, in the order sent: the one list the sender
/// sends and the delivery page shows (with secret values masked). Each try adds its
/// `webhook-timestamp` and `webhook-signature`. Custom headers come last: their names never
/// clash with the console's (reserved names are refused when they are set).
pub fn headers_of_every_try<'a>(
    id: &str,
    api_key: Option<&str>,
    custom: &'a [(String, String)],
) -> Vec<(Cow<'a, str>, String)> {
    let mut headers = vec![
        (Cow::Borrowed("content-type"), "application/json".to_owned()),
        (Cow::Borrowed("user-agent"), USER_AGENT.to_owned()),
        (Cow::Borrowed("webhook-id"), id.to_owned()),
    ];
    if let Some(key) = api_key {
        headers.push((Cow::Borrowed("x-api-key"), key.to_owned()));
    }
    for (name, value) in custom {
        headers.push((Cow::Borrowed(name.as_str()), value.clone()));
    }
    headers
}
/// Long enough for any server that is up, short enough to give up on a black hole.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// What is read of an answer; the rest is dropped, so a receiver streaming for ever cannot
/// grow memory.
const READ_LIMIT: usize = 4 * 1024;

/// One request to send.
pub struct Outgoing {
    pub url: String,
    /// The `webhook-id`: the delivery's id, the same on every retry.
    pub id: String,
    /// The same bytes on every retry.
    pub body: Arc<[u8]>,
    pub api_key: Option<String>,
    /// The webhook's own headers, secret values opened.
    pub custom_headers: Vec<(String, String)>,
    /// Every signing key in force (two while a secret is being rotated).
    pub keys: Vec<SigningKey>,
    /// Texts never kept from an answer (the API key, the signing secrets, secret custom
    /// header values): a receiver that
    /// echoes them (a debug endpoint, an error page) would show them to support staff.
    pub secrets: Arc<Secrets>,
}

/// What one try came to.
#[derive(Debug, Clone)]
pub struct Tried {
    pub at: Timestamp,
    pub duration: Duration,
    pub status_code: Option<u16>,
    /// `None` for a 2xx answer.
    pub error: Option<(AttemptErrorCode, String)>,
    pub response_excerpt: Option<String>,
    /// The answer's headers as `name: value` lines, cut like the body.
    pub response_headers: Option<String>,
    /// The `webhook-signature` this try carried.
    pub signature: String,
    pub retry_after: Option<Duration>,
}

/// The longest pause a receiver's `Retry-After` buys: a receiver may ask for patience, not
/// to be forgotten.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(60 * 60);

impl Tried {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// What it says about the receiver: a 429 or 503 with `Retry-After` pauses the webhook,
    /// any other failure counts against it.
    pub fn signal(&self) -> Signal {
        if let Some(retry_after) = self.retry_after
            && matches!(self.status_code, Some(429 | 503))
        {
            return Signal::Throttled {
                until: self.at.plus(retry_after.min(LONGEST_PAUSE)),
            };
        }
        match &self.error {
            None => Signal::Answered,
            Some((code, reason)) => Signal::Failed {
                code: *code,
                reason: reason.clone(),
            },
        }
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    guard: TargetGuard,
}

impl Sender {
    pub fn new(timeout: Duration, guard: TargetGuard) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(GuardedResolver::new(guard.clone())))
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .use_rustls_tls()
            .build()
            .expect("the delivery client's settings are valid");
        Self { client, guard }
    }

    /// Sends one try, started `at`.
    pub async fn send(&self, outgoing: &Outgoing, at: Timestamp) -> Tried {
        let timestamp = at.unix_ms() / 1000;
        let signature = signature_header(&outgoing.keys, &outgoing.id, timestamp, &outgoing.body);
        let started = Instant::now();
        let answer = self.try_send(outgoing, timestamp, &signature).await;
        let duration = started.elapsed();
        match answer {
            Ok((status, headers, excerpt)) => {
                let error = (!status.is_success()).then(|| {
                    (
                        AttemptErrorCode::HttpStatus,
                        format!("The receiver answered {status}; only 2xx counts as delivered."),
                    )
                });
                Tried {
                    at,
                    duration,
                    status_code: Some(status.as_u16()),
                    error,
                    response_excerpt: Some(excerpt),
                    response_headers: Some(headers_excerpt(&headers, &outgoing.secrets)),
                    signature,
                    retry_after: retry_after(&headers, at),
                }
            }
            Err(error) => Tried {
                at,
                duration,
                status_code: None,
                error: Some(error),
                response_excerpt: None,
                response_headers: None,
                signature,
                retry_after: None,
            },
        }
    }

    async fn try_send(
        &self,
        outgoing: &Outgoing,
        timestamp: i64,
        signature: &str,
    ) -> Result<(reqwest::StatusCode, HeaderMap, String), (AttemptErrorCode, String)> {
        let url = reqwest::Url::parse(&outgoing.url).map_err(|e| {
            (
                AttemptErrorCode::Connect,
                format!("The URL is invalid: {e}."),
            )
        })?;
        // IP literals never reach the resolver: they are checked here.
        let literal = match url.host() {
            Some(Host::Ipv4(v4)) => Some(v4.into()),
            Some(Host::Ipv6(v6)) => Some(v6.into()),
            _ => None,
        };
        if let Some(address) = literal {
            self.guard
                .check(address)
                .map_err(|blocked| (AttemptErrorCode::BlockedTarget, sentence(&blocked)))?;
        }
        let mut request = self.client.post(url);
        let headers = headers_of_every_try(
            &outgoing.id,
            outgoing.api_key.as_deref(),
            &outgoing.custom_headers,
        );
        for (name, value) in headers {
            request = request.header(name.as_ref(), value);
        }
        let request = request
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(outgoing.body.to_vec());
        let mut response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut read = Vec::new();
        while read.len() < READ_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status is what counts; a body that breaks off only shortens the excerpt.
                Err(_) => break,
            }
        }
        Ok((status, headers, excerpt(&read, &outgoing.secrets)))
    }
}

/// How long the receiver asks to be left alone, counted from `now`.
fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = Timestamp::from_unix_ms(
        i64::try_from(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()?,
    );
    (at > now).then(|| now.until(at))
}

/// The address as written: "fd00::1", never "Fd00::1".
fn sentence(blocked: &Blocked) -> String {
    format!("Refused: {blocked}.")
}

/// A failed request as a stable code and a plain sentence.
fn classify(error: &reqwest::Error) -> (AttemptErrorCode, String) {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return (AttemptErrorCode::BlockedTarget, sentence(blocked));
        }
        if let Some(unresolved) = cause.downcast_ref::<NotResolved>() {
            return (
                AttemptErrorCode::Dns,
                format!("The host name did not resolve: {unresolved}."),
            );
        }
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return (
                AttemptErrorCode::Tls,
                format!("The TLS handshake failed: {cause}."),
            );
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return (
            AttemptErrorCode::Timeout,
            "No answer within the delivery timeout.".into(),
        );
    }
    let mut innermost: &dyn std::error::Error = error;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    let address = error.url().and_then(|url| {
        Some(format!(
            "{}:{}",
            url.host_str()?,
            url.port_or_known_default()?
        ))
    });
    let address = address.as_deref().unwrap_or("the receiver");
    let io_kind = innermost
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind);
    let sentence = match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            format!("Connection refused by {address}: nothing accepts connections there.")
        }
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            format!("{address} closed the connection before answering.")
        }
        Some(std::io::ErrorKind::TimedOut) => {
            format!(
                "No connection to {address} within {} s.",
                CONNECT_TIMEOUT.as_secs()
            )
        }
        _ => format!("The connection to {address} failed: {innermost}."),
    };
    (AttemptErrorCode::Connect, sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_address_as_written() {
        let blocked = TargetGuard::default()
            .check("fd00::1".parse().unwrap())
            .unwrap_err();
        assert!(
            sentence(&blocked).starts_with("Refused: fd00::1 is a unique-local address"),
            "{}",
            sentence(&blocked)
        );
    }
}
