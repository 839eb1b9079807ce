//! Copy as cURL: the request of a delivery as a command a person can run against their
//! receiver, secrets left as shell variables for them to fill in.

use crate::clock::Timestamp;
use crate::db::webhooks::Webhook;
use crate::delivery::sender::headers_of_every_try;

/// The request as a cURL command a person can run against their receiver: the last try's
/// timestamp and signature, the exact body, and the API key and secret header values left
/// for them to fill in.
pub(super) fn curl(
    webhook: &Webhook,
    delivery_id: i64,
    has_api_key: bool,
    last_try: Option<(Timestamp, Option<String>)>,
    body: &str,
) -> String {
    let quoted = |text: &str| format!("'{}'", text.replace('\'', "'\\''"));
    let mut lines = vec![format!("curl -X POST {}", quoted(&webhook.url))];
    let plain: Vec<(String, String)> = webhook
        .headers
        .iter()
        .filter_map(|header| Some((header.name.clone(), header.value.clone()?)))
        .collect();
    // The API key and secret values are left for the person to fill in.
    for (name, value) in headers_of_every_try(&delivery_id.to_string(), None, &plain) {
        lines.push(format!("  -H {}", quoted(&format!("{name}: {value}"))));
    }
    if let Some((at, signature)) = last_try {
        lines.push(format!(
            "  -H {}",
            quoted(&format!("webhook-timestamp: {}", at.unix_ms() / 1000))
        ));
        if let Some(signature) = signature {
            lines.push(format!(
                "  -H {}",
                quoted(&format!("webhook-signature: {signature}"))
            ));
        }
    }
    if has_api_key {
        lines.push("  -H \"X-API-Key: $API_KEY\"".to_owned());
    }
    // The name is quoted like the rest (header names may hold `$` or a backtick).
    let secret_names = webhook.headers.iter().filter(|h| h.value.is_none());
    let mut taken = Vec::new();
    for header in secret_names {
        let variable = shell_variable(&header.name, &taken);
        let name = quoted(&format!("{}: ", header.name));
        lines.push(format!("  -H {name}\"${variable}\""));
        taken.push(variable);
    }
    lines.push(format!("  --data-raw {}", quoted(body)));
    lines.join(" \\\n")
}

/// A shell variable for a secret header's value: `SECRET_` and the name's letters and
/// digits in upper case, runs of anything else as one `_` (`1-Token` → `SECRET_1_TOKEN`),
/// so it is always valid, never a variable the shell or the person already has (`$1`,
/// `$_`, `$PATH`, the API key's `$API_KEY`), and a number added to tell it from one taken.
fn shell_variable(header_name: &str, taken: &[String]) -> String {
    let mut variable = String::from("SECRET");
    for word in header_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        variable.push('_');
        variable.push_str(&word.to_ascii_uppercase());
    }
    let mut unique = variable.clone();
    let mut number = 1;
    while taken.contains(&unique) {
        number += 1;
        unique = format!("{variable}_{number}");
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::shell_variable;

    #[test]
    fn secret_headers_get_valid_distinct_shell_variables() {
        let mut taken = Vec::new();
        for (name, expected) in [
            ("1-Token", "SECRET_1_TOKEN"),
            ("-", "SECRET"),
            ("API-Key", "SECRET_API_KEY"),
            ("Path", "SECRET_PATH"),
            ("Api_Key", "SECRET_API_KEY_2"),
            ("api--key", "SECRET_API_KEY_3"),
        ] {
            let variable = shell_variable(name, &taken);
            assert_eq!(variable, expected, "{name}");
            taken.push(variable);
        }
    }
}
