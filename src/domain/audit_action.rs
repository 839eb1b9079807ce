/// What an audit log entry records. Stored as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    Setup,
    WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
    WebhookEnabled,
    WebhookDisabled,
    UserCreated,
    UserRoleChanged,
    UserDisabled,
    UserEnabled,
    UserPasswordReset,
    PasswordChanged,
    TokenCreated,
    TokenRevoked,
    EventTypeRegistered,
    EventTypeArchived,
    EventTypeRestored,
    EventTypeSchemaChanged,
    DeliveryRedelivered,
    SecretRotated,
    SecretRevealed,
    TestEventSent,
    FailedDeliveriesRecovered,
    AccountCreated,
    AccountRenamed,
    AccountDeleted,
}

impl AuditAction {
    /// Comings and goings rather than changes.
    pub const SESSIONS: [Self; 3] = [Self::SignIn, Self::SignInFailed, Self::SignOut];

    pub const ALL: [Self; 29] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::Setup,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::WebhookEnabled,
        Self::WebhookDisabled,
        Self::UserCreated,
        Self::UserRoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserPasswordReset,
        Self::PasswordChanged,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::EventTypeRegistered,
        Self::EventTypeArchived,
        Self::EventTypeRestored,
        Self::EventTypeSchemaChanged,
        Self::DeliveryRedelivered,
        Self::SecretRotated,
        Self::SecretRevealed,
        Self::TestEventSent,
        Self::FailedDeliveriesRecovered,
        Self::AccountCreated,
        Self::AccountRenamed,
        Self::AccountDeleted,
    ];

    /// The stable snake_case name: in storage, URLs and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::Setup => "setup",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookUpdated => "webhook_updated",
            Self::WebhookDeleted => "webhook_deleted",
            Self::WebhookEnabled => "webhook_enabled",
            Self::WebhookDisabled => "webhook_disabled",
            Self::UserCreated => "user_created",
            Self::UserRoleChanged => "user_role_changed",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserPasswordReset => "user_password_reset",
            Self::PasswordChanged => "password_changed",
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::EventTypeRegistered => "event_type_registered",
            Self::EventTypeArchived => "event_type_archived",
            Self::EventTypeRestored => "event_type_restored",
            Self::EventTypeSchemaChanged => "event_type_schema_changed",
            Self::DeliveryRedelivered => "delivery_redelivered",
            Self::SecretRotated => "secret_rotated",
            Self::SecretRevealed => "secret_revealed",
            Self::TestEventSent => "test_event_sent",
            Self::FailedDeliveriesRecovered => "failed_deliveries_recovered",
            Self::AccountCreated => "account_created",
            Self::AccountRenamed => "account_renamed",
            Self::AccountDeleted => "account_deleted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SignIn => "Signed in",
            Self::SignInFailed => "Sign-in failed",
            Self::SignOut => "Signed out",
            Self::Setup => "First admin created",
            Self::WebhookCreated => "Webhook created",
            Self::WebhookUpdated => "Webhook updated",
            Self::WebhookDeleted => "Webhook deleted",
            Self::WebhookEnabled => "Webhook enabled",
            Self::WebhookDisabled => "Webhook disabled",
            Self::UserCreated => "User added",
            Self::UserRoleChanged => "Role changed",
            Self::UserDisabled => "User disabled",
            Self::UserEnabled => "User enabled",
            Self::UserPasswordReset => "Password reset",
            Self::PasswordChanged => "Own password changed",
            Self::TokenCreated => "API token created",
            Self::TokenRevoked => "API token revoked",
            Self::EventTypeRegistered => "Event type registered",
            Self::EventTypeArchived => "Event type archived",
            Self::EventTypeRestored => "Event type restored",
            Self::EventTypeSchemaChanged => "Event type schema changed",
            Self::DeliveryRedelivered => "Redelivery queued",
            Self::SecretRotated => "Signing secret rotated",
            Self::SecretRevealed => "Signing secret revealed",
            Self::TestEventSent => "Test event sent",
            Self::FailedDeliveriesRecovered => "Failed deliveries recovered",
            Self::AccountCreated => "Account created",
            Self::AccountRenamed => "Account renamed",
            Self::AccountDeleted => "Account deleted",
        }
    }

    pub fn from_key(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.key() == value)
    }
}
