use std::sync::LazyLock;

use regex::Regex;
use url::Url;
use validator::{ValidateLength, ValidationError};

use super::invalid;

/// The shape every webhook URL has: http(s), a host name or IPv4 address, an optional port,
/// and a path and query of URL-safe characters; no user:password, no fragment. Stricter than
/// what URL parsers take, so that the stored URL is the one typed and every client (the
/// OpenAPI document publishes this pattern) can check a URL the same way the server does.
pub const URL_PATTERN: &str = concat!(
    r"^[Hh][Tt][Tt][Pp][Ss]?://",
    r"(",
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    r"|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
    r")",
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?",
    r"(/[A-Za-z0-9._~!$&'()*+,;=:/?%-]*)?$",
);

static URL_SHAPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(URL_PATTERN).expect("the URL pattern compiles"));

/// An absolute `http` or `https` URL without credentials or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// The common limit of browsers and proxies; longer URLs are truncated or refused on the way.
    pub const MAX_CHARS: u64 = 2048;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(
                "required",
                "Enter the URL that receives the events.",
            ));
        }
        if !raw.validate_length(None, Some(Self::MAX_CHARS), None) {
            return Err(too_long());
        }
        let url = Url::parse(raw).map_err(|_| {
            invalid(
                "not_absolute",
                "Enter a full URL that starts with https:// or http://.",
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(
                "scheme",
                "Use a web address that starts with https:// or http://.",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "credentials",
                "Remove the user name and password from the URL; put a credential in API Key instead.",
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("fragment", "Remove the #fragment from the URL."));
        }
        if !URL_SHAPE.is_match(raw) {
            return Err(invalid(
                "shape",
                "Use a host name or IPv4 address, and only URL-safe characters (encode others as %XX).",
            ));
        }
        // Normalisation can percent-encode characters, so the stored form is checked too.
        if !url
            .as_str()
            .validate_length(None, Some(Self::MAX_CHARS), None)
        {
            return Err(too_long());
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Plain http sends the payload and the API key readable by anyone on the path.
    pub fn is_plain_http(&self) -> bool {
        self.0.scheme() == "http"
    }
}

fn too_long() -> ValidationError {
    invalid(
        "too_long",
        format!("Use at most {} characters.", WebhookUrl::MAX_CHARS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_http_urls_are_accepted() {
        assert!(WebhookUrl::parse("https://example.com/hooks?x=1").is_ok());
        assert!(
            WebhookUrl::parse("http://example.com")
                .unwrap()
                .is_plain_http()
        );
    }

    #[test]
    fn unsafe_or_incomplete_urls_are_refused() {
        for bad in [
            "",
            "ftp://example.com/",
            "javascript:alert(1)",
            "/hooks",
            "example.com/hooks",
            "https://user:pass@example.com/",
            "https://example.com/#top",
            "https://",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn hosts_ports_and_characters_must_be_plain() {
        for good in [
            "http://127.0.0.1:8080/hooks",
            "https://Example.COM:65535/a/b?c=d&e=%20f",
            "https://xn--bcher-kva.example/",
        ] {
            assert!(WebhookUrl::parse(good).is_ok(), "{good} should be accepted");
        }
        for bad in [
            "https://exa*mple.com/",
            "https://example.com:65536/",
            "https://1.2.3/",
            "https://example.com/a b",
            "https://bücher.example/",
            "https://example.com/\"quoted\"",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn urls_over_the_limit_are_refused() {
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(2048 - base.len()));
        assert!(WebhookUrl::parse(&at_limit).is_ok());
        assert!(WebhookUrl::parse(&format!("{at_limit}a")).is_err());
    }
}
