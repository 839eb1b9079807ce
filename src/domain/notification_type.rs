use validator::ValidationError;

use super::invalid;

/// How a webhook notifies its receiver. An enum so that more kinds can follow REST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum NotificationType {
    Rest,
}

impl NotificationType {
    pub const ALL: [Self; 1] = [Self::Rest];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.label().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| invalid("unknown_notification_type", "Choose a notification type."))
    }

    /// What forms submit and the API accepts.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rest => "REST",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Rest => "Notifies the external system by its API",
        }
    }

    /// The stable snake_case name: in storage, URLs and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Rest => "rest",
        }
    }

    pub fn from_key(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == value)
    }
}
