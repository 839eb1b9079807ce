//! A webhook's own headers, sent with every delivery: what a receiver behind a gateway
//! needs (a tenant, a routing key, a second credential).

use validator::ValidationError;

use super::invalid;

/// One row of the form, or one entry of the API's `headers`, before parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderRow {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

/// A header's value: typed now, or (a secret, when editing) the one stored, which is never
/// shown again.
#[derive(Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Set(String),
    KeepStored,
}

/// A valid custom header. No `Debug`: its value may be secret.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomHeader {
    /// As typed: HTTP names ignore case, receivers' logs do not.
    pub name: String,
    pub value: HeaderValue,
    /// Sealed at rest, masked for admins, hidden from support and from stored responses.
    pub secret: bool,
}

/// A webhook's custom headers, at most [`CustomHeaders::MAX`], no name twice.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CustomHeaders(Vec<CustomHeader>);

/// Set by the console on every delivery, or meaningful only to one hop: a custom header of
/// that name would break the signature, the body's framing, the connection, or talk to a
/// proxy on the way (`proxy-authorization` would hand a credential to whoever proxies).
const RESERVED: [&str; 16] = [
    "content-type",
    "content-encoding",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "host",
    "user-agent",
    "x-api-key",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "proxy-connection",
];

impl std::fmt::Debug for CustomHeaders {
    /// Names only: a value may be secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|header| &header.name))
            .finish()
    }
}

/// The rules of [`CustomHeaders::parse`] as JSON Schema patterns (ECMA regular expressions,
/// without flags), so the API's document tells clients what the server takes.
pub mod patterns {
    /// An HTTP token: what a header name may be made of.
    pub const NAME: &str = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
    /// Visible ASCII, spaces and tabs, with at least one visible character.
    pub const VALUE: &str = "^[\\t -~]*[!-~][\\t -~]*$";

    /// The reserved names, in any case.
    pub fn reserved() -> String {
        let any_case = |word: &str| -> String {
            word.chars()
                .map(|c| match c.is_ascii_alphabetic() {
                    true => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                    false => c.to_string(),
                })
                .collect()
        };
        let mut words: Vec<String> = vec![format!("{}.*", any_case("webhook-"))];
        words.extend(super::RESERVED.iter().map(|word| any_case(word)));
        format!("^({})$", words.join("|"))
    }
}

impl CustomHeaders {
    pub const MAX: usize = 20;
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_VALUE_CHARS: usize = 2048;

    /// Rows with neither name nor value are skipped (the form's empty row). A secret row
    /// left empty keeps its stored value when `stored_secrets` names it (editing).
    pub fn parse(rows: &[HeaderRow], stored_secrets: &[String]) -> Result<Self, ValidationError> {
        let mut headers: Vec<CustomHeader> = Vec::new();
        for row in rows {
            let (name, value) = (row.name.trim(), row.value.trim());
            if name.is_empty() && value.is_empty() {
                continue;
            }
            let name = parse_name(name)?;
            if headers.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
                return Err(invalid(
                    "header_twice",
                    format!("“{name}” is listed twice; keep one."),
                ));
            }
            let keeps = row.secret
                && value.is_empty()
                && stored_secrets.iter().any(|s| s.eq_ignore_ascii_case(&name));
            let value = match keeps {
                true => HeaderValue::KeepStored,
                false => HeaderValue::Set(parse_value(&name, value)?),
            };
            headers.push(CustomHeader {
                name,
                value,
                secret: row.secret,
            });
        }
        if headers.len() > Self::MAX {
            return Err(invalid(
                "too_many_headers",
                format!("Use at most {} custom headers.", Self::MAX),
            ));
        }
        Ok(Self(headers))
    }

    pub fn iter(&self) -> impl Iterator<Item = &CustomHeader> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn parse_name(name: &str) -> Result<String, ValidationError> {
    if name.is_empty() {
        return Err(invalid(
            "header_name",
            "Give each header a name, like X-Tenant.",
        ));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.chars().count() > CustomHeaders::MAX_NAME_CHARS || !name.chars().all(token) {
        return Err(invalid(
            "header_name",
            format!(
                "“{name}” is not a header name: use letters, digits and dashes (like X-Tenant), \
                 at most {} characters, no spaces or colons.",
                CustomHeaders::MAX_NAME_CHARS
            ),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("webhook-") {
        return Err(invalid(
            "reserved_header",
            format!(
                "“{name}” is reserved: webhook-* headers carry the delivery's id, timestamp and \
                 signature. Choose another name."
            ),
        ));
    }
    if RESERVED.contains(&lower.as_str()) {
        return Err(invalid(
            "reserved_header",
            format!(
                "“{name}” is reserved: the console sets it on every delivery (the API key goes \
                 in the API Key field). Choose another name."
            ),
        ));
    }
    Ok(name.to_owned())
}

fn parse_value(name: &str, value: &str) -> Result<String, ValidationError> {
    if value.is_empty() {
        return Err(invalid("header_value", format!("Give “{name}” a value.")));
    }
    // Visible ASCII, spaces and tabs: what every server and proxy passes on unchanged.
    let carried = |c: char| c == ' ' || c == '\t' || c.is_ascii_graphic();
    if !value.chars().all(carried) {
        return Err(invalid(
            "header_value",
            format!(
                "The value of “{name}” has a character a header cannot carry (a line break, a \
                 control character or non-ASCII text)."
            ),
        ));
    }
    if value.chars().count() > CustomHeaders::MAX_VALUE_CHARS {
        return Err(invalid(
            "header_value",
            format!(
                "The value of “{name}” is too long: use at most {} characters.",
                CustomHeaders::MAX_VALUE_CHARS
            ),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests;

/// A header opened, as it is sent. No `Debug`: its value may be secret.
#[derive(Clone)]
pub struct SentHeader {
    pub name: String,
    pub value: String,
    pub secret: bool,
}
