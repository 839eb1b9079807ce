//! Each event type's compiled schema, as publishing asks for it: read again from the
//! catalog at most once a second (so a schema registered on another node applies within a
//! second), at once after a change on this node, and compiled only when its version moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::{Db, StoreError, event_types};
use crate::domain::DataSchema;

/// How long a read of the catalog's schemas is taken as current.
const FRESH_FOR: Duration = Duration::from_secs(1);

pub(super) struct Schemas {
    db: Db,
    current: Mutex<Arc<Snapshot>>,
    /// One reader of the catalog at a time; the others take what it read.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Snapshot {
    read_at: Option<Instant>,
    /// By key: the schema and its version.
    by_key: HashMap<String, (i64, DataSchema)>,
}

impl Snapshot {
    fn is_fresh(&self) -> bool {
        self.read_at.is_some_and(|at| at.elapsed() < FRESH_FOR)
    }
}

impl Schemas {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            current: Mutex::default(),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The schema `key`'s data must match, if it has one.
    pub async fn of(&self, key: &str) -> Result<Option<DataSchema>, StoreError> {
        let snapshot = self.snapshot();
        if snapshot.is_fresh() {
            return Ok(snapshot.by_key.get(key).map(|(_, schema)| schema.clone()));
        }
        let _reading = self.reading.lock().await;
        let snapshot = self.snapshot();
        if snapshot.is_fresh() {
            return Ok(snapshot.by_key.get(key).map(|(_, schema)| schema.clone()));
        }
        let read = self.read(&snapshot).await?;
        let found = read.by_key.get(key).map(|(_, schema)| schema.clone());
        *self.current.lock().expect("not poisoned") = Arc::new(read);
        Ok(found)
    }

    /// The catalog changed here: the next publish reads it again.
    pub fn forget(&self) {
        *self.current.lock().expect("not poisoned") = Arc::default();
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.lock().expect("not poisoned"))
    }

    /// The catalog's schemas, compiling only those whose version is not the one held.
    async fn read(&self, held: &Snapshot) -> Result<Snapshot, StoreError> {
        let versions = event_types::schema_versions(self.db.reader()).await?;
        let mut by_key = HashMap::with_capacity(versions.len());
        for (key, version) in versions {
            let schema = match held.by_key.get(&key) {
                Some((held_version, schema)) if *held_version == version => schema.clone(),
                _ => match event_types::schema(self.db.reader(), &key).await? {
                    Some(schema) => schema,
                    None => continue,
                },
            };
            by_key.insert(key, (version, schema));
        }
        Ok(Snapshot {
            read_at: Some(Instant::now()),
            by_key,
        })
    }
}
