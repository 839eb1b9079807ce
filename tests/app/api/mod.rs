//! The JSON API over real HTTP: what a host application and an automation script see.

mod auth;
mod events;
mod strict_bodies;
mod webhooks;

use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn order() -> Value {
    json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_1"}}})
}

pub async fn error_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
