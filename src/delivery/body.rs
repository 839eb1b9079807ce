//! The body a receiver gets, exactly four keys, built from the stored event: the same bytes
//! on every retry.

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::db::delivery_queue::Claimed;

#[derive(Serialize)]
struct Body<'a> {
    event_time: String,
    event_type: &'a str,
    current_context: &'a RawValue,
    data: &'a RawValue,
}

pub fn of(delivery: &Claimed) -> Result<Arc<[u8]>, serde_json::Error> {
    let body = Body {
        event_time: delivery.event_time.rfc3339(),
        event_type: &delivery.event_type,
        current_context: serde_json::from_str(&delivery.current_context)?,
        data: serde_json::from_str(&delivery.data)?,
    };
    Ok(serde_json::to_vec(&body)?.into())
}
