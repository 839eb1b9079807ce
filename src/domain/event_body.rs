use serde::Serialize;

/// The JSON body every receiver gets, with exactly these four keys in this order: the one
/// definition of what is sent (the sender writes it over the stored JSON as it is, so the
/// signed bytes never change; pages show it over parsed values, laid out for reading).
#[derive(Debug, Serialize)]
pub struct EventBody<'a, Json: ?Sized = serde_json::Value> {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-01-15T09:30:00.000Z`.
    pub event_time: &'a str,
    pub event_type: &'a str,
    /// What the publisher said about the circumstances (tenant, actor, ...); `{}` if nothing.
    pub current_context: &'a Json,
    pub data: &'a Json,
}
