//! What the copy copies: each table, its columns and their kinds, parents before children.

use crate::secrets::secret_box::Purpose;

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Int,
    Text,
    Bool,
    /// Text sealed with the installation's key for this purpose.
    Sealed(Purpose),
    /// A webhook's custom headers: JSON with sealed values inside.
    Headers,
}

pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Read in pages by its first column, an integer key; small tables are read whole.
    pub paged: bool,
}

use Kind::{Bool, Headers, Int, Sealed, Text};

/// Parents before children, so every foreign key finds its row.
pub(super) const TABLES: &[Table] = &[
    Table {
        name: "accounts",
        columns: &[
            ("key", Text),
            ("name", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        paged: false,
    },
    Table {
        name: "event_types",
        columns: &[
            ("key", Text),
            ("group_name", Text),
            ("description", Text),
            ("example_data", Text),
            ("created_at", Int),
            ("archived_at", Int),
            ("data_schema", Text),
            ("schema_version", Int),
        ],
        paged: false,
    },
    Table {
        name: "webhooks",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("name_folded", Text),
            ("name_look_alike_key", Text),
            ("url", Text),
            ("notification_type", Text),
            ("all_events", Bool),
            ("api_key", Sealed(Purpose::ApiKey)),
            ("status", Text),
            ("status_reason", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("last_delivery_at", Int),
            ("last_delivery_outcome", Text),
            ("signing_secret", Sealed(Purpose::SigningSecret)),
            ("previous_signing_secret", Sealed(Purpose::SigningSecret)),
            ("previous_secret_expires_at", Int),
            ("max_per_second", Int),
            ("consecutive_failures", Int),
            ("failing_since", Int),
            ("failing_reason", Text),
            ("failing_code", Text),
            ("next_probe_at", Int),
            ("paused_until", Int),
            ("custom_headers", Headers),
            ("account", Text),
        ],
        paged: true,
    },
    Table {
        name: "webhook_ids",
        columns: &[("only_row", Int), ("last_id", Int)],
        paged: false,
    },
    Table {
        name: "webhook_events",
        columns: &[("webhook_id", Int), ("event_type", Text)],
        paged: false,
    },
    Table {
        name: "webhook_hourly_stats",
        columns: &[
            ("webhook_id", Int),
            ("hour_start", Int),
            ("succeeded", Int),
            ("failed", Int),
        ],
        paged: false,
    },
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("email", Text),
            ("role", Text),
            ("password_hash", Text),
            ("disabled", Bool),
            ("created_at", Int),
            ("updated_at", Int),
            ("account", Text),
        ],
        paged: true,
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("name_folded", Text),
            ("name_look_alike_key", Text),
            ("token_hash", Text),
            ("prefix", Text),
            ("created_at", Int),
            ("last_used_at", Int),
            ("revoked_at", Int),
            ("account", Text),
        ],
        paged: true,
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("target_type", Text),
            ("target", Text),
            ("summary", Text),
            ("account", Text),
        ],
        paged: true,
    },
    Table {
        name: "events",
        columns: &[
            ("id", Int),
            ("event_type", Text),
            ("event_time", Int),
            ("current_context", Text),
            ("data", Text),
            ("api_token_id", Int),
            ("about_webhook_id", Int),
            ("idempotency_key", Text),
            ("idempotency_fingerprint", Text),
            ("created_at", Int),
            ("account", Text),
        ],
        paged: true,
    },
    Table {
        name: "deliveries",
        columns: &[
            ("id", Int),
            ("event_id", Int),
            ("webhook_id", Int),
            ("status", Text),
            ("attempt_count", Int),
            ("schedule_start", Int),
            ("next_attempt_at", Int),
            ("last_attempt_at", Int),
            ("last_status_code", Int),
            ("created_at", Int),
            ("leased", Bool),
            ("redeliver_requested_at", Int),
        ],
        paged: true,
    },
    Table {
        name: "attempts",
        columns: &[
            ("id", Int),
            ("delivery_id", Int),
            ("attempted_at", Int),
            ("duration_ms", Int),
            ("status_code", Int),
            ("error_code", Text),
            ("error_message", Text),
            ("response_body", Text),
            ("response_headers", Text),
            ("signature", Text),
        ],
        paged: true,
    },
];

/// Every table the copy writes, with its columns in the copy's order: what the schemas of
/// both backends must agree on.
pub fn copied_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    TABLES
        .iter()
        .map(|table| {
            let columns = table.columns.iter().map(|(name, _)| *name).collect();
            (table.name, columns)
        })
        .collect()
}

/// The tables whose ids the target hands out itself from now on.
pub(super) const IDENTITIES: &[&str] = &[
    "users",
    "api_tokens",
    "audit_log",
    "events",
    "deliveries",
    "attempts",
];
