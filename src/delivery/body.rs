//! The body a receiver gets, exactly four keys, built from the stored event: the same bytes
//! on every retry.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::clock::Timestamp;
use crate::domain::EventBody;
use crate::domain::queue::Claimed;

pub fn of(delivery: &Claimed) -> Result<Arc<[u8]>, serde_json::Error> {
    Ok(bytes(
        delivery.event_time,
        &delivery.event_type,
        &delivery.current_context,
        &delivery.data,
    )?
    .into())
}

/// The exact bytes sent for an event: what its signature covers.
pub fn bytes(
    event_time: Timestamp,
    event_type: &str,
    current_context: &str,
    data: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let current_context: &RawValue = serde_json::from_str(current_context)?;
    let data: &RawValue = serde_json::from_str(data)?;
    serde_json::to_vec(&EventBody {
        event_time: &event_time.rfc3339(),
        event_type,
        current_context,
        data,
    })
}
