use sqlx::Row;

use super::{Reader, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{DataSchema, EventTypeKey, looks_alike};

#[derive(Debug, Clone)]
pub struct EventType {
    pub key: EventTypeKey,
    pub group: String,
    pub description: String,
    pub example_data: serde_json::Value,
    /// Kept for the deliveries that name it, but gone from pickers and refused at publish.
    pub archived_at: Option<Timestamp>,
    /// What its `data` must match, if anything.
    pub schema: Option<DataSchema>,
    /// 0 while it has no schema; one more at each change.
    pub schema_version: i64,
}

impl EventType {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// The catalog, archived types too, grouped by group name then key: the order forms and
/// pages show it in.
pub async fn list<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventType>, StoreError> {
    let sql = "SELECT key, group_name, description, example_data, archived_at, data_schema,
                      schema_version
               FROM event_types ORDER BY group_name, key";
    on_read!(db, |e| sqlx::query(sql)
        .fetch_all(e)
        .await?
        .iter()
        .map(|row| {
            let example: String = row.try_get("example_data")?;
            let schema: Option<String> = row.try_get("data_schema")?;
            Ok(EventType {
                key: decode_key(row.try_get("key")?)?,
                group: row.try_get("group_name")?,
                description: row.try_get("description")?,
                example_data: serde_json::from_str(&example)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                archived_at: row.try_get("archived_at")?,
                schema: schema.as_deref().map(decode_schema).transpose()?,
                schema_version: row.try_get("schema_version")?,
            })
        })
        .collect())
}

/// The catalog without archived types: what pickers offer.
pub async fn current<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventType>, StoreError> {
    let mut catalog = list(db).await?;
    catalog.retain(|event_type| !event_type.is_archived());
    Ok(catalog)
}

/// Every key, archived ones too: what filters over past deliveries offer.
pub async fn keys<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventTypeKey>, StoreError> {
    let keys: Vec<String> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT key FROM event_types ORDER BY key"
    )
    .fetch_all(e)
    .await?);
    Ok(keys.into_iter().map(decode_key).collect::<Result<_, _>>()?)
}

/// The keys that are not archived: what can be published and subscribed to.
pub async fn current_keys<'a>(db: impl Into<Source<'a>>) -> Result<Vec<EventTypeKey>, StoreError> {
    let keys: Vec<String> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT key FROM event_types WHERE archived_at IS NULL ORDER BY key"
    )
    .fetch_all(e)
    .await?);
    Ok(keys.into_iter().map(decode_key).collect::<Result<_, _>>()?)
}

/// The types that have a schema, with its version: what publishing compares its compiled
/// schemas against.
pub async fn schema_versions(db: Reader<'_>) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_read!(db, |e| sqlx::query_as(
        "SELECT key, schema_version FROM event_types WHERE data_schema IS NOT NULL"
    )
    .fetch_all(e)
    .await?))
}

/// One type's schema, if it has one.
pub async fn schema(db: Reader<'_>, key: &str) -> Result<Option<DataSchema>, StoreError> {
    let text: Option<Option<String>> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT data_schema FROM event_types WHERE key = $1"
    )
    .bind(key)
    .fetch_optional(e)
    .await?);
    Ok(text.flatten().as_deref().map(decode_schema).transpose()?)
}

/// How many webhooks each event type reaches: (those that chose it by key, those that take
/// all events).
pub async fn usage(
    db: Reader<'_>,
) -> Result<(std::collections::HashMap<String, i64>, i64), StoreError> {
    on_pool!(db, |e| {
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

/// A stored schema was checked when it was registered: one that no longer reads is a
/// storage fault.
fn decode_schema(text: &str) -> Result<DataSchema, sqlx::Error> {
    let source = serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(e.into()))?;
    // Stored under the rules of its day: shown as it is, and used only if it still passes.
    Ok(DataSchema::stored(source))
}

pub(super) fn decode_key(key: String) -> Result<EventTypeKey, sqlx::Error> {
    EventTypeKey::parse(&key).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Adds a type to the catalog; a key that exists is a conflict, not a change. Refused too:
/// a group whose name looks like another group's but is not the same (one group would show
/// as two), and a type beyond the catalog's limit of types not archived.
pub async fn register(
    tx: &mut WriteTx,
    event_type: &EventType,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (taken, groups, current): (bool, Vec<String>, i64) = on_tx!(&mut *tx, |e| {
        let taken = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM event_types WHERE key = $1)")
            .bind(event_type.key.as_str())
            .fetch_one(&mut *e)
            .await?;
        let groups = sqlx::query_scalar("SELECT DISTINCT group_name FROM event_types")
            .fetch_all(&mut *e)
            .await?;
        let current =
            sqlx::query_scalar("SELECT COUNT(*) FROM event_types WHERE archived_at IS NULL")
                .fetch_one(e)
                .await?;
        (taken, groups, current)
    });
    if taken {
        return Err(StoreError::EventTypeTaken);
    }
    if let Some(existing) = groups
        .into_iter()
        .find(|group| *group != event_type.group && looks_alike(group, &event_type.group))
    {
        return Err(StoreError::GroupLooksAlike { existing });
    }
    if usize::try_from(current).unwrap_or(usize::MAX) >= EventTypeKey::CATALOG_LIMIT {
        return Err(StoreError::CatalogFull);
    }
    on_tx!(tx, |e| sqlx::query(
        "INSERT INTO event_types (key, group_name, description, example_data, created_at,
                                  data_schema, schema_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event_type.key.as_str())
    .bind(&event_type.group)
    .bind(&event_type.description)
    .bind(event_type.example_data.to_string())
    .bind(now)
    .bind(
        event_type
            .schema
            .as_ref()
            .map(|schema| schema.source().to_string())
    )
    .bind(i64::from(event_type.schema.is_some()))
    .execute(e)
    .await
    .map(|_| ())
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EventTypeTaken,
        _ => StoreError::Database(error),
    }))?;
    Ok(())
}

/// Gives a type a new schema (or none), as its next version; returns that version.
/// `NotFound` for an unknown key.
pub async fn set_schema(
    tx: &mut WriteTx,
    key: &EventTypeKey,
    schema: Option<&DataSchema>,
) -> Result<i64, StoreError> {
    let version: Option<i64> = on_tx!(tx, |e| sqlx::query_scalar(
        "UPDATE event_types SET data_schema = $1, schema_version = schema_version + 1
         WHERE key = $2 RETURNING schema_version"
    )
    .bind(schema.map(|schema| schema.source().to_string()))
    .bind(key.as_str())
    .fetch_optional(e)
    .await?);
    version.ok_or(StoreError::NotFound)
}

/// Archives a type (`archived`), or brings it back within the catalog's limit. Returns
/// whether anything changed; `NotFound` for an unknown key.
pub async fn set_archived(
    tx: &mut WriteTx,
    key: &EventTypeKey,
    archived: bool,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let (found, current): (Option<Option<Timestamp>>, i64) = on_tx!(&mut *tx, |e| {
        let found = sqlx::query_scalar("SELECT archived_at FROM event_types WHERE key = $1")
            .bind(key.as_str())
            .fetch_optional(&mut *e)
            .await?;
        let current =
            sqlx::query_scalar("SELECT COUNT(*) FROM event_types WHERE archived_at IS NULL")
                .fetch_one(e)
                .await?;
        (found, current)
    });
    let was_archived = found.ok_or(StoreError::NotFound)?.is_some();
    if was_archived == archived {
        return Ok(false);
    }
    if !archived && usize::try_from(current).unwrap_or(usize::MAX) >= EventTypeKey::CATALOG_LIMIT {
        return Err(StoreError::CatalogFull);
    }
    on_tx!(tx, |e| sqlx::query(
        "UPDATE event_types SET archived_at = $1 WHERE key = $2"
    )
    .bind(archived.then_some(now))
    .bind(key.as_str())
    .execute(e)
    .await
    .map(|_| ()))?;
    Ok(true)
}
