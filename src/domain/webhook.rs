use serde::Deserialize;
use validator::{ValidationError, ValidationErrors};

use super::{
    ApiKey, CustomHeaders, EventSelection, EventTypeKey, HeaderRow, MaxPerSecond, NotificationType,
    WebhookName, WebhookUrl,
};

/// A webhook as submitted by the form or the API, before parsing. Field names are the
/// form's `name` attributes.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct WebhookInput {
    pub name: String,
    pub events: Vec<String>,
    pub notification_type: String,
    pub url: String,
    pub api_key: String,
    /// When editing, an empty API Key keeps the stored one; this checkbox removes it.
    pub remove_api_key: Option<String>,
    /// Empty: no cap.
    pub max_per_second: String,
    /// Custom headers, row by row: the names, the values, and the rows (by index, from 0)
    /// whose value is secret and those ticked for removal.
    pub header_name: Vec<String>,
    pub header_value: Vec<String>,
    pub header_secret: Vec<String>,
    pub header_remove: Vec<String>,
}

/// A webhook's settings, every one of them valid.
#[derive(Debug, Clone)]
pub struct WebhookDraft {
    pub name: WebhookName,
    pub events: EventSelection,
    pub notification_type: NotificationType,
    pub url: WebhookUrl,
    pub api_key: ApiKeyChange,
    pub max_per_second: Option<MaxPerSecond>,
    pub headers: CustomHeaders,
}

#[derive(Debug, Clone)]
pub enum ApiKeyChange {
    Keep,
    Remove,
    Set(ApiKey),
}

impl WebhookInput {
    /// Parses every field, collecting one message per invalid field.
    pub fn parse(&self, catalog: &[EventTypeKey]) -> Result<WebhookDraft, ValidationErrors> {
        self.parse_editing(catalog, &[])
    }

    /// Like [`WebhookInput::parse`], for a webhook whose secret headers `stored_secrets`
    /// names: such a header left empty keeps its value.
    pub fn parse_editing(
        &self,
        catalog: &[EventTypeKey],
        stored_secrets: &[String],
    ) -> Result<WebhookDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let headers = collect(
            &mut errors,
            "headers",
            CustomHeaders::parse(&self.header_rows(), stored_secrets),
        );
        let name = collect(&mut errors, "name", WebhookName::parse(&self.name));
        let events = collect(
            &mut errors,
            "events",
            EventSelection::parse(&self.events, catalog),
        );
        let notification_type = collect(
            &mut errors,
            "notification_type",
            NotificationType::parse(&self.notification_type),
        );
        let url = collect(&mut errors, "url", WebhookUrl::parse(&self.url));
        let api_key = collect(&mut errors, "api_key", ApiKey::parse(&self.api_key));
        let max_per_second = collect(
            &mut errors,
            "max_per_second",
            MaxPerSecond::parse(&self.max_per_second),
        );
        match (
            name,
            events,
            notification_type,
            url,
            api_key,
            max_per_second,
            headers,
        ) {
            (
                Some(name),
                Some(events),
                Some(notification_type),
                Some(url),
                Some(api_key),
                Some(max_per_second),
                Some(headers),
            ) => Ok(WebhookDraft {
                max_per_second,
                headers,
                name,
                events,
                notification_type,
                url,
                api_key: self.api_key_change(api_key),
            }),
            _ => Err(errors),
        }
    }

    /// A key typed replaces the stored one; none keeps it, unless "remove" is ticked.
    fn api_key_change(&self, typed: Option<ApiKey>) -> ApiKeyChange {
        match (typed, &self.remove_api_key) {
            (Some(key), _) => ApiKeyChange::Set(key),
            (None, Some(_)) => ApiKeyChange::Remove,
            (None, None) => ApiKeyChange::Keep,
        }
    }

    /// The custom header rows as typed, the secret ones marked, those ticked for removal
    /// left out.
    pub fn header_rows(&self) -> Vec<HeaderRow> {
        let rows = self.header_name.len().max(self.header_value.len());
        (0..rows)
            .filter(|index| !self.header_remove.contains(&index.to_string()))
            .map(|index| HeaderRow {
                name: self.header_name.get(index).cloned().unwrap_or_default(),
                value: self.header_value.get(index).cloned().unwrap_or_default(),
                secret: self.header_secret.contains(&index.to_string()),
            })
            .collect()
    }

    /// The same input with these header rows.
    pub fn with_header_rows(self, rows: &[HeaderRow]) -> Self {
        Self {
            header_name: rows.iter().map(|row| row.name.clone()).collect(),
            header_value: rows.iter().map(|row| row.value.clone()).collect(),
            header_secret: (0..rows.len())
                .filter(|&index| rows[index].secret)
                .map(|index| index.to_string())
                .collect(),
            ..self
        }
    }
}

fn collect<T>(
    errors: &mut ValidationErrors,
    field: &'static str,
    parsed: Result<T, ValidationError>,
) -> Option<T> {
    parsed.map_err(|error| errors.add(field, error)).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum WebhookStatus {
    Active,
    Disabled,
    /// Disabled by the delivery engine after every delivery failed for days.
    AutoDisabled,
}

impl WebhookStatus {
    pub const ALL: [Self; 3] = [Self::Active, Self::Disabled, Self::AutoDisabled];

    /// The stable snake_case name: in storage, URLs and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::AutoDisabled => "auto_disabled",
        }
    }

    pub fn from_key(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.key() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Disabled => "Disabled",
            Self::AutoDisabled => "Auto-disabled",
        }
    }

    pub fn is_active(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<EventTypeKey> {
        vec![EventTypeKey::parse("order.purchased").unwrap()]
    }

    #[test]
    fn every_invalid_field_gets_its_own_message() {
        let input = WebhookInput {
            name: " ".into(),
            url: "ftp://example.com".into(),
            api_key: "has space".into(),
            ..WebhookInput::default()
        };
        let errors = input.parse(&catalog()).unwrap_err();
        let fields = errors.field_errors();
        for field in ["name", "events", "notification_type", "url", "api_key"] {
            assert!(fields.contains_key(field), "{field} should have an error");
        }
    }

    #[test]
    fn an_empty_api_key_keeps_the_stored_one_unless_removal_is_asked() {
        let mut input = WebhookInput {
            name: "CRM".into(),
            events: vec!["*".into()],
            notification_type: "REST".into(),
            url: "https://example.com/hook".into(),
            ..WebhookInput::default()
        };
        assert!(matches!(
            input.parse(&catalog()).unwrap().api_key,
            ApiKeyChange::Keep
        ));
        input.remove_api_key = Some("on".into());
        assert!(matches!(
            input.parse(&catalog()).unwrap().api_key,
            ApiKeyChange::Remove
        ));
    }
}
