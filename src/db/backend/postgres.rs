//! The scale-out backend: several nodes share one PostgreSQL database. Each node has a pool
//! of connections for reads and writes alike; what SQLite gets from its single writer
//! (checks that read before they write stay true until the commit) comes from a
//! transaction-level advisory lock that console changes take.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use crate::db::StoreError;

/// Requests, ingest batches, claims and outcome batches of one node, in parallel.
const CONNECTIONS: u32 = 16;

/// Advisory lock keys: arbitrary, fixed, and unlikely to meet another application's.
const CONSOLE_WRITES: i64 = 0x5743_0001;
pub(in crate::db) const UPKEEP: i64 = 0x5743_0002;

#[derive(Clone)]
pub(in crate::db) struct Pool {
    pub pool: PgPool,
    /// For the job locks' own connections.
    options: Arc<PgConnectOptions>,
}

/// How a transaction behaves towards the other nodes' transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::db) enum Begin {
    /// One at a time across all nodes, like SQLite's writer: console changes.
    Serialized,
    /// Beside other nodes' transactions; durable when committed.
    Concurrent,
    /// Beside others, and the commit does not wait for the WAL flush: a crash of the
    /// database server may lose the last of these, never corrupt anything.
    Relaxed,
}

impl Pool {
    /// Connects and applies pending migrations; the database must exist.
    /// A request that cannot get a connection within `wait` is told the database is
    /// unavailable.
    pub async fn open(database_url: &str, wait: Duration) -> Result<Self, StoreError> {
        let options: PgConnectOptions = database_url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(wait)
            .connect_with(options.clone())
            .await?;
        // Nodes starting together apply migrations one after another (sqlx takes an
        // advisory lock around them).
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool,
            options: Arc::new(options),
        })
    }

    pub async fn begin(&self, begin: Begin) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        match begin {
            Begin::Serialized => {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(CONSOLE_WRITES)
                    .execute(&mut *tx)
                    .await?;
            }
            Begin::Concurrent => {}
            Begin::Relaxed => {
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(tx)
    }

    /// A session-level advisory lock on a connection of its own, outside the pool: if the
    /// node dies, the connection closes and the lock is free again.
    pub async fn try_lock(&self, key: i64) -> Result<Option<PgConnection>, StoreError> {
        let mut connection = PgConnection::connect_with(&self.options).await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut connection)
            .await?;
        if locked {
            Ok(Some(connection))
        } else {
            connection.close().await?;
            Ok(None)
        }
    }
}
