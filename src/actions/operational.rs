//! Publishing the console's operational events, inside the transaction that records what
//! they tell: the notice is on disk exactly when the turn it reports is.

use serde_json::json;

use super::Inbox;
use crate::clock::Timestamp;
use crate::db::events::{self, NewEvent, Publisher};
use crate::db::{StoreError, WriteTx};
use crate::domain::queue::Fresh;
use crate::domain::{OperationalEvent, terms_of};

/// Stores the events with a delivery to each webhook subscribed to their type, except the
/// webhook each is about. An event nobody else listens for is not stored: a receiver that
/// fails every delivery would otherwise double the writes for nothing. Returns the
/// deliveries to hand to `inbox` once the transaction commits.
pub async fn publish(
    tx: &mut WriteTx,
    inbox: &Inbox,
    happened: &[OperationalEvent],
    now: Timestamp,
) -> Result<Vec<Fresh>, StoreError> {
    if happened.is_empty() {
        return Ok(Vec::new());
    }
    let subscribers = events::subscribers(tx, &OperationalEvent::TYPES).await?;
    let heard = |event: &&OperationalEvent| {
        subscribers.iter().any(|(event_type, webhook)| {
            event_type == event.event_type() && *webhook != event.about().id
        })
    };
    let context = json!({});
    let events: Vec<NewEvent> = happened
        .iter()
        .filter(heard)
        .map(|event| {
            let data = event.data();
            NewEvent {
                account: event.about().account.clone(),
                event_type: event.event_type().to_owned(),
                event_time: now,
                current_context: context.to_string(),
                search_terms: terms_of(&data, &context, None),
                data: data.to_string(),
                publisher: Publisher::Console {
                    about_webhook_id: event.about().id,
                },
                idempotency: None,
            }
        })
        .collect();
    if events.is_empty() {
        return Ok(Vec::new());
    }
    events::publish_own(tx, &events, now, now.plus(inbox.lease())).await
}
