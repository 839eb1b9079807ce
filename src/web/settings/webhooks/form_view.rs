//! The Create/Edit Webhook form as the template shows it.

use validator::{ValidationError, ValidationErrors};

use super::detail_href;
use crate::db::event_types::EventType;
use crate::domain::{
    CustomHeaders, EventSelection, NotificationType, WebhookInput, name_taken_message,
};
use crate::web::layout::Layout;

pub struct FormView {
    /// The partial is rendered without the page frame, so it carries its own token.
    pub csrf_token: String,
    pub heading: String,
    /// Shown as a page of its own (its heading is the page's), not in place on the list.
    pub standalone: bool,
    pub action: String,
    pub submit_label: &'static str,
    pub cancel_href: String,
    pub input: WebhookInput,
    pub all_events: bool,
    pub groups: Vec<EventGroup>,
    pub notification_types: Vec<(&'static str, &'static str)>,
    /// Editing only: the stored key, masked.
    pub stored_api_key: Option<String>,
    /// The custom header rows, and empty ones to type into.
    pub header_rows: Vec<HeaderRowView>,
    pub errors: FieldErrors,
}

pub struct HeaderRowView {
    pub name: String,
    pub value: String,
    pub secret: bool,
    /// A stored secret value, kept while the field stays empty.
    pub kept: bool,
}

pub struct EventGroup {
    pub name: String,
    pub types: Vec<EventOption>,
}

pub struct EventOption {
    pub key: String,
    pub description: String,
    pub checked: bool,
}

#[derive(Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub events: Option<String>,
    pub notification_type: Option<String>,
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub max_per_second: Option<String>,
    pub headers: Option<String>,
}

pub enum Mode {
    Create,
    Edit {
        id: i64,
        stored_api_key: Option<String>,
        /// Names of the stored headers whose value is secret.
        stored_secrets: Vec<String>,
    },
}

impl FormView {
    pub fn new(
        mode: Mode,
        input: WebhookInput,
        catalog: &[EventType],
        errors: FieldErrors,
        layout: &Layout,
    ) -> Self {
        let all_events = input.events.iter().any(|key| key == EventSelection::ALL);
        let groups = event_groups(catalog, &input, matches!(mode, Mode::Edit { .. }));
        let header_rows = header_rows(&input, &mode);
        let (heading, action, submit_label, cancel_href, stored_api_key) = match mode {
            Mode::Create => (
                "Create Webhook".to_owned(),
                "/settings/webhooks".to_owned(),
                "Create",
                "/settings/webhooks".to_owned(),
                None,
            ),
            Mode::Edit {
                id, stored_api_key, ..
            } => (
                "Edit Webhook".to_owned(),
                format!("{}/edit", detail_href(id)),
                "Save",
                detail_href(id),
                stored_api_key,
            ),
        };
        Self {
            csrf_token: layout.csrf_token.clone(),
            heading,
            standalone: false,
            action,
            submit_label,
            cancel_href,
            all_events,
            groups,
            notification_types: NotificationType::ALL
                .into_iter()
                .map(|kind| (kind.label(), kind.description()))
                .collect(),
            stored_api_key,
            header_rows,
            errors,
            input,
        }
    }

    /// Rows with something in them (the rest are spare, to type into).
    pub fn header_count(&self) -> usize {
        self.header_rows
            .iter()
            .filter(|row| !row.is_spare())
            .count()
    }

    /// The custom headers section starts open when it holds something or has a problem;
    /// closed, it costs a keyboard user one Tab stop.
    pub fn shows_headers(&self) -> bool {
        self.header_count() > 0 || self.errors.headers.is_some()
    }

    /// Plain http exposes the payload and the API key on the way.
    pub fn plain_http(&self) -> bool {
        self.errors.url.is_none()
            && self
                .input
                .url
                .trim()
                .to_ascii_lowercase()
                .starts_with("http://")
    }
}

impl FieldErrors {
    /// The same errors, and the name's: `typed` is the name of `existing` or looks like it.
    pub fn with_name_taken(self, typed: &str, existing: &str) -> Self {
        Self {
            name: Some(name_taken_message("webhook", typed, existing)),
            ..self
        }
    }

    /// Each problem once, in the form's order, with the id of the field to jump to: the
    /// summary at the top of a form that came back.
    pub fn summary(&self) -> Vec<(&'static str, &'static str, &str)> {
        [
            ("name", "Webhook Name", &self.name),
            ("url", "URL", &self.url),
            ("event-all", "Webhook Events", &self.events),
            (
                "notification_type",
                "Notification Type",
                &self.notification_type,
            ),
            ("api_key", "API Key", &self.api_key),
            (
                "max_per_second",
                "Max deliveries per second",
                &self.max_per_second,
            ),
            ("header_name_0", "Custom headers", &self.headers),
        ]
        .into_iter()
        .filter_map(|(id, label, message)| Some((id, label, message.as_deref()?)))
        .collect()
    }
}

impl From<ValidationErrors> for FieldErrors {
    fn from(errors: ValidationErrors) -> Self {
        let fields = errors.field_errors();
        let message = |field: &str| {
            fields
                .get(field)
                .and_then(|errors| errors.first())
                .map(message_of)
        };
        Self {
            name: message("name"),
            events: message("events"),
            notification_type: message("notification_type"),
            url: message("url"),
            api_key: message("api_key"),
            max_per_second: message("max_per_second"),
            headers: message("headers"),
        }
    }
}

fn message_of(error: &ValidationError) -> String {
    error
        .message
        .as_ref()
        .map_or_else(|| error.code.to_string(), ToString::to_string)
}

impl HeaderRowView {
    /// Nothing typed: a row to type a new header into, skipped on save.
    pub fn is_spare(&self) -> bool {
        self.name.trim().is_empty() && self.value.is_empty() && !self.kept
    }
}

/// Spare rows after the headers: room to add that many at once without JavaScript (with
/// it, "Add header" adds more).
const SPARE_HEADER_ROWS: usize = 2;

/// The rows as typed, and spare ones to type into, up to [`CustomHeaders::MAX`] in all.
fn header_rows(input: &WebhookInput, mode: &Mode) -> Vec<HeaderRowView> {
    let stored: &[String] = match mode {
        Mode::Edit { stored_secrets, .. } => stored_secrets,
        Mode::Create => &[],
    };
    let mut rows: Vec<HeaderRowView> = input
        .header_rows()
        .into_iter()
        .map(|row| HeaderRowView {
            kept: row.secret
                && row.value.is_empty()
                && stored
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(row.name.trim())),
            name: row.name,
            value: row.value,
            secret: row.secret,
        })
        .filter(|row: &HeaderRowView| !row.is_spare())
        .collect();
    let spare = SPARE_HEADER_ROWS.min(CustomHeaders::MAX.saturating_sub(rows.len()));
    rows.extend((0..spare).map(|_| HeaderRowView {
        name: String::new(),
        value: String::new(),
        secret: false,
        kept: false,
    }));
    rows
}

/// The subscribable types by group, those `input` chose ticked; when editing, what the
/// webhook has now comes first, so a change starts from it.
fn event_groups(catalog: &[EventType], input: &WebhookInput, edit: bool) -> Vec<EventGroup> {
    let mut groups: Vec<EventGroup> = Vec::new();
    for event_type in catalog.iter().filter(|t| t.key.is_subscribable()) {
        let option = EventOption {
            key: event_type.key.to_string(),
            description: event_type.description.clone(),
            checked: input
                .events
                .iter()
                .any(|key| key == event_type.key.as_str()),
        };
        match groups.last_mut() {
            Some(group) if group.name == event_type.group => group.types.push(option),
            _ => groups.push(EventGroup {
                name: event_type.group.clone(),
                types: vec![option],
            }),
        }
    }
    if edit {
        for group in &mut groups {
            group.types.sort_by_key(|option| !option.checked);
        }
        groups.sort_by_key(|group| !group.types.iter().any(|option| option.checked));
    }
    groups
}
