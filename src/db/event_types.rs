use sqlx::Row;

use super::{Reader, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::EventTypeKey;

#[derive(Debug, Clone)]
pub struct EventType {
    pub key: EventTypeKey,
    pub group: String,
    pub description: String,
    pub example_data: serde_json::Value,
}

/// The catalog, grouped by group name then key: the order forms and pages show it in.
pub async fn list<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventType>, StoreError> {
    let sql = "SELECT key, group_name, description, example_data FROM event_types
               ORDER BY group_name, key";
    dispatch!(read db, |e, d| sqlx::query(sql)
        .fetch_all(e)
        .await?
        .iter()
        .map(|row| {
            let example: String = row.try_get("example_data")?;
            Ok(EventType {
                key: decode_key(row.try_get("key")?)?,
                group: row.try_get("group_name")?,
                description: row.try_get("description")?,
                example_data: serde_json::from_str(&example)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            })
        })
        .collect())
}

pub async fn keys<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventTypeKey>, StoreError> {
    let keys: Vec<String> = dispatch!(read db, |e, d| sqlx::query_scalar(
        "SELECT key FROM event_types ORDER BY key"
    )
    .fetch_all(e)
    .await?);
    Ok(keys.into_iter().map(decode_key).collect::<Result<_, _>>()?)
}

/// How many webhooks each event type reaches: (those that chose it by key, those that take
/// all events).
pub async fn usage(
    db: Reader<'_>,
) -> Result<(std::collections::HashMap<String, i64>, i64), StoreError> {
    dispatch!(pool db, |e, d| {
        let chosen: Vec<(String, i64)> =
            sqlx::query_as("SELECT event_type, COUNT(*) FROM webhook_events GROUP BY event_type")
                .fetch_all(e)
                .await?;
        let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE all_events")
            .fetch_one(e)
            .await?;
        Ok((chosen.into_iter().collect(), all))
    })
}

pub(super) fn decode_key(key: String) -> Result<EventTypeKey, sqlx::Error> {
    EventTypeKey::parse(&key).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Adds a type to the catalog; a key that exists is a conflict, not a change.
pub async fn register(
    tx: &mut WriteTx,
    event_type: &EventType,
    now: Timestamp,
) -> Result<(), StoreError> {
    dispatch!(tx tx, |e, d| sqlx::query(
        "INSERT INTO event_types (key, group_name, description, example_data, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(event_type.key.as_str())
    .bind(&event_type.group)
    .bind(&event_type.description)
    .bind(event_type.example_data.to_string())
    .bind(now)
    .execute(e)
    .await
    .map(|_| ())
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EventTypeTaken,
        _ => StoreError::Database(error),
    }))?;
    Ok(())
}
