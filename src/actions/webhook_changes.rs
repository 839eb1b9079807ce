//! What the audit log says about a webhook change: field by field, never a secret.

use crate::db::webhooks::Webhook;
use crate::domain::{ApiKeyChange, EventSelection, WebhookDraft};

/// The audit log's summary of a new webhook; never the API key itself.
pub fn describe_new(draft: &WebhookDraft) -> String {
    format!(
        "URL {}; events {}; {}; API key {}",
        draft.url.as_str(),
        describe_events(&draft.events),
        draft.notification_type.label(),
        if matches!(draft.api_key, ApiKeyChange::Set(_)) {
            "set"
        } else {
            "not set"
        },
    )
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
