//! What the audit log says about a webhook change: field by field, never a secret.

use crate::db::webhooks::Webhook;
use crate::domain::{ApiKeyChange, CustomHeaders, EventSelection, HeaderValue, WebhookDraft};

/// The audit log's summary of a new webhook; never the API key itself.
pub fn describe_new(draft: &WebhookDraft) -> String {
    format!(
        "URL {}; events {}; {}; API key {}{}",
        draft.url.as_str(),
        describe_events(&draft.events),
        draft.notification_type.label(),
        if matches!(draft.api_key, ApiKeyChange::Set(_)) {
            "set"
        } else {
            "not set"
        },
        match draft.headers.is_empty() {
            true => String::new(),
            false => format!("; custom headers {}", header_names(&draft.headers)),
        },
    )
}

/// The headers by name, secret ones marked: never a value.
fn header_names(headers: &CustomHeaders) -> String {
    headers
        .iter()
        .map(|header| match header.secret {
            true => format!("{} (secret)", header.name),
            false => header.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the headers change: a name, a plain value, or a secret value typed anew.
fn headers_change(before: &Webhook, after: &CustomHeaders) -> bool {
    let unchanged = before.headers.len() == after.iter().count()
        && before.headers.iter().zip(after.iter()).all(|(old, new)| {
            old.name == new.name
                && match (&old.value, &new.value, new.secret) {
                    (Some(old), HeaderValue::Set(new), false) => old == new,
                    (None, HeaderValue::KeepStored, true) => true,
                    _ => false,
                }
        });
    !unchanged
}

/// What an edit changed, field by field; the API key only as "changed" or "removed".
pub fn describe_changes(before: &Webhook, after: &WebhookDraft) -> String {
    let mut changes = Vec::new();
    if before.name != after.name.as_str() {
        changes.push(format!(
            "name “{}” → “{}”",
            before.name,
            after.name.as_str()
        ));
    }
    if before.url != after.url.as_str() {
        changes.push(format!("URL {} → {}", before.url, after.url.as_str()));
    }
    if before.events != after.events {
        changes.push(format!(
            "events {} → {}",
            describe_events(&before.events),
            describe_events(&after.events)
        ));
    }
    if before.notification_type != after.notification_type {
        changes.push(format!(
            "notification type → {}",
            after.notification_type.label()
        ));
    }
    match after.api_key {
        ApiKeyChange::Keep => {}
        ApiKeyChange::Remove => changes.push("API key removed".into()),
        ApiKeyChange::Set(_) => changes.push("API key changed".into()),
    }
    if headers_change(before, &after.headers) {
        changes.push(match after.headers.is_empty() {
            true => "custom headers removed".to_owned(),
            false => format!("custom headers → {}", header_names(&after.headers)),
        });
    }
    if changes.is_empty() {
        "no changes".into()
    } else {
        changes.join("; ")
    }
}

fn describe_events(events: &EventSelection) -> String {
    match events {
        EventSelection::All => "all".into(),
        EventSelection::Only(keys) => keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}
