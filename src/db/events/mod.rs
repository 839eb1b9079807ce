mod ingest;
mod own;
mod search;

pub use own::{insert_test_event, publish_own, subscribers};
pub(super) use search::insert_search_terms;
pub use search::{INDEX_BATCH, each_quotable, index_quotes, quoting};

use ingest::insert_fresh;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::queue::Fresh;
use crate::domain::{AccountKey, SearchTerm};

/// How long an `Idempotency-Key` answers with the event it first created.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A parsed, valid event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Whose it is: only this account's webhooks receive it.
    pub account: AccountKey,
    pub event_type: String,
    pub event_time: Timestamp,
    /// JSON text.
    pub current_context: String,
    /// JSON text.
    pub data: String,
    pub publisher: Publisher,
    pub idempotency: Option<Idempotency>,
    /// What a customer may quote to find it (see [`crate::domain::terms_of`]), computed
    /// on the request's thread; stored with the event on PostgreSQL, found again from the
    /// event by SQLite's indexer.
    pub search_terms: Vec<SearchTerm>,
}

/// Who publishes an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Publisher {
    /// The host application, with this API token.
    Token(i64),
    /// The console itself, about this webhook (an operational event), which never
    /// receives it.
    Console { about_webhook_id: i64 },
}

impl Publisher {
    pub fn token(self) -> Option<i64> {
        match self {
            Self::Token(id) => Some(id),
            Self::Console { .. } => None,
        }
    }

    pub fn about_webhook(self) -> Option<i64> {
        match self {
            Self::Token(_) => None,
            Self::Console { about_webhook_id } => Some(about_webhook_id),
        }
    }
}

/// An `Idempotency-Key`, which belongs to the token that sent it, and the fingerprint of
/// the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub id: i64,
    /// Deliveries queued for it, one per matching active webhook.
    pub deliveries: i64,
    /// True when an earlier event with the same idempotency key answered.
    pub repeated: bool,
}

/// Why an event is not stored, whoever published it: the one definition of a refusal,
/// carried as it is to the API's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the event type is not in the catalog")]
    UnknownEventType,
    /// The type is archived: kept for earlier deliveries, published no more.
    #[error("the event type is archived")]
    ArchivedEventType,
    /// No account has the key the event names.
    #[error("the account does not exist")]
    UnknownAccount,
    /// The token used this key within the window for a different request.
    #[error("the idempotency key was used for a different request")]
    IdempotencyConflict,
}

/// Rows per multi-row INSERT: 10 parameters each stays far below SQLite's 32,766 limit.
const ROWS_PER_INSERT: usize = 1000;

/// Stores a batch of events and one pending delivery per active webhook that subscribes to
/// each event's type, inside the caller's transaction: all of them are on disk or none.
/// The deliveries are claimed until `lease_until` for the caller's sender, except those of
/// webhooks that are Failing or paused: they wait, due, for a claim. A handful of statements serve the whole batch, whatever its size; only events that carry
/// an `Idempotency-Key` cost a lookup each.
pub async fn publish_batch(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Batch, StoreError> {
    let mut plan = sort_out(conn, events, now).await?;
    let (stored, deliveries) = insert_fresh(conn, events, &plan.fresh, now, lease_until).await?;
    for (&index, published) in plan.fresh.iter().zip(stored) {
        plan.outcomes[index] = Some(Ok(published));
    }
    for (index, first) in plan.repeats_in_batch {
        plan.outcomes[index] = if events[index].idempotency == events[first].idempotency {
            plan.outcomes[first].map(|first| first.map(Published::repeated))
        } else {
            Some(Err(Refused::IdempotencyConflict))
        };
    }
    let outcomes = plan
        .outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Err(Refused::UnknownEventType)))
        .collect();
    Ok(Batch {
        outcomes,
        deliveries,
    })
}

/// What a stored batch came to.
pub struct Batch {
    /// One per event, in order.
    pub outcomes: Vec<Result<Published, Refused>>,
    /// The deliveries created and claimed until the lease given.
    pub deliveries: Vec<Fresh>,
}

/// What becomes of each event of a batch before anything is written.
struct Plan {
    /// Decided already: refused, or answered by an earlier event with the same key.
    outcomes: Vec<Option<Result<Published, Refused>>>,
    /// To be stored, in batch order.
    fresh: Vec<usize>,
    /// (this, first): a later event of the batch with the key of an earlier one.
    repeats_in_batch: Vec<(usize, usize)>,
}

async fn sort_out(
    conn: &mut WriteTx,
    events: &[&NewEvent],
    now: Timestamp,
) -> Result<Plan, StoreError> {
    // Each key, and whether it is archived.
    let catalog: HashMap<String, bool> = on_tx!(&mut *conn, |e| sqlx::query_as(
        "SELECT key, archived_at IS NOT NULL FROM event_types"
    )
    .fetch_all(e)
    .await?
    .into_iter()
    .collect());
    let accounts = existing_accounts(conn, events).await?;
    hold_idempotency_keys(conn, events).await?;
    let mut plan = Plan {
        outcomes: vec![None; events.len()],
        fresh: Vec::with_capacity(events.len()),
        repeats_in_batch: Vec::new(),
    };
    let mut first_with_key: HashMap<(Publisher, &str, &str), usize> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        let refused = match catalog.get(&event.event_type) {
            Some(false) => None,
            Some(true) => Some(Refused::ArchivedEventType),
            None => Some(Refused::UnknownEventType),
        };
        let refused = refused.or_else(|| {
            (!accounts.contains(event.account.as_str())).then_some(Refused::UnknownAccount)
        });
        if let Some(refused) = refused {
            plan.outcomes[index] = Some(Err(refused));
            continue;
        }
        if let Some(idempotency) = &event.idempotency {
            let scoped_key = (
                event.publisher,
                event.account.as_str(),
                idempotency.key.as_str(),
            );
            if let Some(&first) = first_with_key.get(&scoped_key) {
                plan.repeats_in_batch.push((index, first));
                continue;
            }
            if let Some(earlier) = earlier_with_key(conn, event, idempotency, now).await? {
                plan.outcomes[index] = Some(earlier);
                continue;
            }
            first_with_key.insert(scoped_key, index);
        }
        plan.fresh.push(index);
    }
    Ok(plan)
}

/// The accounts the batch's events name that exist (`default` always does): one read per
/// batch, inside its transaction, so an account deleted meanwhile is not written to.
async fn existing_accounts(
    conn: &mut WriteTx,
    events: &[&NewEvent],
) -> Result<HashSet<String>, StoreError> {
    let mut named: Vec<&str> = events
        .iter()
        .filter(|event| !event.account.is_default())
        .map(|event| event.account.as_str())
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut found: HashSet<String> = HashSet::from([AccountKey::default_account().to_string()]);
    if named.is_empty() {
        return Ok(found);
    }
    let keys: Vec<String> = on_tx!(conn, |e, _, DB| {
        let mut query = sqlx::QueryBuilder::<DB>::new("SELECT key FROM accounts WHERE key IN (");
        let mut each = query.separated(", ");
        for key in &named {
            each.push_bind(*key);
        }
        query.push(")");
        query.build_query_scalar().fetch_all(e).await?
    });
    found.extend(keys);
    Ok(found)
}

/// On PostgreSQL, nodes storing batches side by side would both find an idempotency key
/// unused and both insert it: each batch first takes a lock per key it carries, in one
/// order, so the second waits for the first's commit and then finds its event. SQLite's one
/// writer does this already.
async fn hold_idempotency_keys(conn: &mut WriteTx, events: &[&NewEvent]) -> Result<(), StoreError> {
    let WriteTx::Postgres(tx) = conn else {
        return Ok(());
    };
    let mut keys: Vec<i64> = events
        .iter()
        .filter_map(|event| {
            let idempotency = event.idempotency.as_ref()?;
            let token = event.publisher.token()?;
            let digest =
                super::sha256_hex(&format!("{token}:{}:{}", event.account, idempotency.key));
            i64::from_str_radix(&digest[..15], 16).ok()
        })
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    sqlx::query("SELECT pg_advisory_xact_lock(key) FROM unnest($1::bigint[]) AS key")
        .bind(keys)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Published {
    fn repeated(self) -> Self {
        Self {
            repeated: true,
            ..self
        }
    }
}

/// What an idempotency key the token used within the window answers: its event, or a
/// conflict when the key came with a different request. An expired key is released, so
/// the new event can take it.
async fn earlier_with_key(
    conn: &mut WriteTx,
    event: &NewEvent,
    idempotency: &Idempotency,
    now: Timestamp,
) -> Result<Option<Result<Published, Refused>>, StoreError> {
    on_tx!(conn, |e| {
        let earlier: Option<(i64, Timestamp, Option<String>)> = sqlx::query_as(
            "SELECT id, created_at, idempotency_fingerprint FROM events
         WHERE api_token_id = $1 AND account = $3 AND idempotency_key = $2",
        )
        .bind(event.publisher.token())
        .bind(&idempotency.key)
        .bind(event.account.as_str())
        .fetch_optional(&mut *e)
        .await?;
        match earlier {
            Some((id, created_at, fingerprint)) if created_at >= now.minus(IDEMPOTENCY_WINDOW) => {
                if fingerprint.as_deref() != Some(idempotency.fingerprint.as_str()) {
                    return Ok(Some(Err(Refused::IdempotencyConflict)));
                }
                let deliveries =
                    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event_id = $1")
                        .bind(id)
                        .fetch_one(&mut *e)
                        .await?;
                Ok(Some(Ok(Published {
                    id,
                    deliveries,
                    repeated: true,
                })))
            }
            Some((id, ..)) => {
                sqlx::query("UPDATE events SET idempotency_key = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *e)
                    .await?;
                Ok(None)
            }
            None => Ok(None),
        }
    })
}
