use serde::Serialize;

/// The JSON body every receiver gets, with exactly these four keys in this order.
#[derive(Debug, Serialize)]
pub struct EventBody<'a> {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-01-15T09:30:00.000Z`.
    pub event_time: &'a str,
    pub event_type: &'a str,
    /// What the publisher said about the circumstances (tenant, actor, ...); `{}` if nothing.
    pub current_context: &'a serde_json::Value,
    pub data: &'a serde_json::Value,
}
