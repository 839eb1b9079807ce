//! One send, on its own task: the request built from the claimed delivery, and what the
//! try came to.

use std::sync::Arc;

use crate::delivery::answer::SecretsCache;
use crate::delivery::outcomes::SentDelivery;
use crate::delivery::queue::Queue;
use crate::delivery::scheduler::Send;
use crate::delivery::sender::{Outgoing, Tried};
use crate::delivery::signature::SigningKey;
use crate::delivery::{Engine, body};
use crate::domain::queue::Claimed;

/// A send task ends with what the try came to (`None`: it could not be built, and goes back).
pub(super) struct Sent {
    pub delivery: SentDelivery,
    pub tried: Option<Tried>,
}

pub(super) async fn send_one<Q: Queue>(engine: Arc<Engine<Q>>, send: Send) -> Sent {
    let delivery = send.delivery;
    let tried = match outgoing(&delivery, &engine.masks) {
        Ok(outgoing) => {
            engine.metrics.in_flight.inc();
            let tried = engine.sender.send(&outgoing, engine.queue.now()).await;
            engine.metrics.in_flight.dec();
            Some(tried)
        }
        Err(error) => {
            tracing::error!("delivery {} cannot be built: {error}", delivery.id);
            None
        }
    };
    Sent {
        delivery: SentDelivery {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            attempts_in_schedule: delivery.attempts_in_schedule,
            probe: send.probe,
            lease: delivery.lease,
        },
        tried,
    }
}

fn outgoing(delivery: &Claimed, masks: &SecretsCache) -> Result<Outgoing, String> {
    let keys = std::iter::once(&delivery.signing_secret)
        .chain(&delivery.previous_signing_secret)
        .map(|secret| SigningKey::parse(secret).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let api_key = delivery.api_key.as_ref().map(|key| key.expose().to_owned());
    // A signing secret is masked with and without its `whsec_` prefix.
    let given = std::iter::once(&delivery.signing_secret)
        .chain(&delivery.previous_signing_secret)
        .flat_map(|secret| {
            [
                secret.clone(),
                secret.trim_start_matches("whsec_").to_owned(),
            ]
        })
        .chain(api_key.clone())
        .chain(
            delivery
                .custom_headers
                .iter()
                .filter(|header| header.secret)
                .map(|header| header.value.clone()),
        )
        .collect();
    let secrets = masks.of(delivery.webhook_id, given);
    Ok(Outgoing {
        url: delivery.url.clone(),
        id: delivery.id.to_string(),
        body: body::of(delivery).map_err(|e| e.to_string())?,
        api_key,
        custom_headers: delivery
            .custom_headers
            .iter()
            .map(|header| (header.name.clone(), header.value.clone()))
            .collect(),
        keys,
        secrets,
    })
}
