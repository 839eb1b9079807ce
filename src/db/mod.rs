//! All SQL lives here, for two backends chosen at run time by the database URL: SQLite (one
//! file, the default) and PostgreSQL (several nodes, one database). Each storage function
//! is written once; where the two spell a statement differently, it says both.
//!
//! Callers own transactions: they take one from [`Db::begin_write`] (or its siblings) and
//! pass it to the functions of these modules; reads take [`Db::reader`] or that transaction.

#[macro_use]
mod backend;

pub mod accounts;
pub mod api_tokens;
pub mod audit;
mod availability;
pub mod copy;
pub mod deliveries;
pub mod delivery_queue;
mod error;
pub mod event_types;
pub mod events;
pub mod housekeeping;
mod name_keys;
pub mod nodes;
pub mod sessions;
pub mod sign_in_failures;
pub mod users;
pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::clock::{Clock, Timestamp};
use availability::Availability;
pub use availability::Outage;
use backend::{Backend, postgres, sqlite};
pub(crate) use backend::{Bind, IdList};
pub use backend::{Dialect, Reader, Source, WriteTx};
pub use error::StoreError;
use sqlx::{Database, PgConnection, QueryBuilder};

/// The database, on whichever backend its URL names.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    availability: Availability,
    /// The longest a request waits for a connection before it is told the database is
    /// unavailable.
    wait: Duration,
    /// The one clock, handed to every layer with the database.
    clock: Clock,
}

/// How long a request waits for the database by default (`--database-wait`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

/// Work that one node at a time does, whatever the number of nodes.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    Upkeep,
}

/// Held while a [`Job`] runs; release it when done.
pub struct JobLock(Option<PgConnection>);

impl JobLock {
    pub async fn release(self) {
        if let Some(connection) = self.0 {
            // Closing the session frees its advisory lock.
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}

impl Db {
    /// Opens the database and applies pending migrations: `postgres://…` (the database must
    /// exist) or `sqlite://…` (the file is created when missing).
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        Self::open_waiting(database_url, DEFAULT_WAIT).await
    }

    /// [`Db::open`], with requests waiting at most `wait` for the database.
    pub async fn open_waiting(database_url: &str, wait: Duration) -> Result<Self, StoreError> {
        let backend = if is_postgres(database_url) {
            Backend::Postgres(postgres::Pool::open(database_url, wait).await?)
        } else {
            Backend::Sqlite(sqlite::Pools::open(database_url).await?)
        };
        let db = Self {
            backend,
            availability: Availability::new(),
            wait,
            clock: Clock::system(),
        };
        name_keys::key_earlier_names(&db).await?;
        Ok(db)
    }

    /// This handle, reading the time from `clock` (a movable clock in tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The time now, by the clock the server was started with.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Whether other processes may share this database (PostgreSQL), so that nodes must
    /// announce themselves; an SQLite file serves one process.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    pub fn reader(&self) -> Reader<'_> {
        match &self.backend {
            Backend::Sqlite(pools) => Reader::Sqlite(&pools.reader),
            Backend::Postgres(pool) => Reader::Postgres(&pool.pool),
        }
    }

    /// A change that must not interleave with another: on SQLite the one writer, on
    /// PostgreSQL one such transaction at a time across all nodes, so what it read (the
    /// last admin, the sign-in throttle's count) stays true until its commit. Its commit is
    /// durable when it returns: what is acknowledged survives a power cut.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.unless_unreachable()?;
        match &self.backend {
            Backend::Sqlite(pools) => Ok(WriteTx::Sqlite(pools.begin(true).await?)),
            Backend::Postgres(pool) => Ok(WriteTx::Postgres(
                pool.begin(postgres::Begin::Serialized).await?,
            )),
        }
    }

    /// A durable batch (ingest) whose statements need no serializing: on PostgreSQL it runs
    /// beside other nodes' batches.
    pub async fn begin_batch(&self) -> Result<WriteTx, StoreError> {
        self.unless_unreachable()?;
        match &self.backend {
            Backend::Sqlite(pools) => Ok(WriteTx::Sqlite(pools.begin(true).await?)),
            Backend::Postgres(pool) => Ok(WriteTx::Postgres(
                pool.begin(postgres::Begin::Concurrent).await?,
            )),
        }
    }

    /// For writes whose loss in a power cut only repeats work: a lost claim lets its lease
    /// lapse, a lost attempt record sends the delivery again (receivers de-duplicate on
    /// `webhook-id`). The commit does not wait for the disk; it survives the process being
    /// killed.
    pub async fn begin_write_relaxed(&self) -> Result<WriteTx, StoreError> {
        self.unless_unreachable()?;
        match &self.backend {
            Backend::Sqlite(pools) => Ok(WriteTx::Sqlite(pools.begin(false).await?)),
            Backend::Postgres(pool) => Ok(WriteTx::Postgres(
                pool.begin(postgres::Begin::Relaxed).await?,
            )),
        }
    }

    /// The job's lock if no other node holds it. SQLite has one node: always granted.
    pub async fn try_lock(&self, job: Job) -> Result<Option<JobLock>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Some(JobLock(None))),
            Backend::Postgres(pool) => {
                let key = match job {
                    Job::Upkeep => postgres::UPKEEP,
                };
                Ok(pool.try_lock(key).await?.map(|c| JobLock(Some(c))))
            }
        }
    }

    /// Refuses at once while the database is known to be down, so that a request does not
    /// wait out a connection timeout to learn it; a full disk refuses only the writes that
    /// actually need space.
    fn unless_unreachable(&self) -> Result<(), StoreError> {
        match self.outage() {
            Some(outage @ Outage::Unreachable(_)) => Err(StoreError::Unavailable(outage)),
            _ => Ok(()),
        }
    }

    /// A write that needs a page of space, to learn whether writes work again.
    async fn probe_write(&self) -> Result<(), StoreError> {
        let mut tx = match &self.backend {
            Backend::Sqlite(pools) => WriteTx::Sqlite(pools.begin(true).await?),
            Backend::Postgres(pool) => {
                WriteTx::Postgres(pool.begin(postgres::Begin::Concurrent).await?)
            }
        };
        on_tx!(&mut tx, |e| {
            sqlx::query(
                "INSERT INTO write_probe (id, writes) VALUES (1, 1) \
                 ON CONFLICT (id) DO UPDATE SET writes = write_probe.writes + 1",
            )
            .execute(&mut *e)
            .await?;
        });
        tx.commit().await
    }

    /// Every table of the schema with its columns, by name: to check that the two backends'
    /// migrations build the same schema.
    pub async fn columns(&self) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self.reader(), |e, d| {
            sqlx::query_as(d.pick(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                  WHERE m.type = 'table'",
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema()",
            ))
            .fetch_all(e)
            .await?
        });
        let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (table, column) in rows {
            tables.entry(table).or_default().insert(column);
        }
        Ok(tables)
    }

    /// The database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self.reader(), |e| {
            sqlx::query("SELECT 1").execute(e).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pools) => pools.close().await,
            Backend::Postgres(pool) => pool.pool.close().await,
        }
    }
}

/// A consistent copy of an SQLite database in a new file (`VACUUM INTO`): it reads one
/// snapshot while the server goes on writing, and the copy is compact.
pub async fn backup_into(db: &Db, to: &std::path::Path) -> Result<(), StoreError> {
    let Backend::Sqlite(pools) = &db.backend else {
        return Err(StoreError::Database(sqlx::Error::Configuration(
            "only an SQLite database is backed up by copying it".into(),
        )));
    };
    sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(&pools.reader)
        .await?;
    Ok(())
}

/// The database file an SQLite URL names; none for an in-memory database.
pub fn sqlite_file(database_url: &str) -> Result<Option<std::path::PathBuf>, sqlx::Error> {
    sqlite::file(database_url)
}

pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// Adds a condition no row meets, and says so, when a filter's text cannot match anything
/// stored: nothing the console stores holds a NUL (PostgreSQL refuses it in text), so such a
/// filter matches no row, on either backend, instead of failing on one.
fn matches_nothing<DB: Database>(
    query: &mut QueryBuilder<'_, DB>,
    texts: &[&Option<String>],
) -> bool {
    let unmatchable = texts
        .iter()
        .copied()
        .flatten()
        .any(|text| text.contains('\0'));
    if unmatchable {
        query.push(" AND 1 = 0");
    }
    unmatchable
}

/// `LIKE` pattern characters in user input match themselves.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Hex SHA-256: how high-entropy secrets (session keys, API tokens) are stored.
pub(crate) fn sha256_hex(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
