//! The embedded backend: one SQLite file in WAL mode, one writer connection (writes queue
//! in the process instead of fighting over SQLite's lock) and a pool of read-only
//! connections that never wait for it.

use std::fs::{OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::db::StoreError;

/// How long a statement waits for another writer before giving up; writes are short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Often enough that the WAL stays small, rarely enough to cost nothing when idle.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// 8 MiB of 4 KiB pages: past this the WAL is reset with the writer paused (see
/// [`reset_wal`]); with a second's growth on top it stays well under 64 MiB.
const WAL_RESET_FRAMES: i64 = 2048;
/// What an emptied WAL file is cut back to, so its disk space is returned.
const WAL_SIZE_LIMIT_BYTES: &str = "16777216";
/// Read and write for the server's user, nothing for anyone else.
const PRIVATE_FILE_MODE: u32 = 0o600;
/// Readers run in parallel under WAL; a few cover two cores with room for slow requests.
const READER_CONNECTIONS: u32 = 8;

/// Prepared statements each connection keeps. Batches build their statements to their size
/// (a multi-row VALUES, an IN list), so most differ from the last: a deep cache would hold
/// dozens of large compiled programs per connection (the 100 of sqlx's default cost tens of
/// MB under load) that are seldom used again.
const STATEMENT_CACHE: usize = 16;

/// The database file an SQLite URL names; none for an in-memory database.
pub(in crate::db) fn file(database_url: &str) -> Result<Option<PathBuf>, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(database_url)?;
    Ok(on_disk(options.get_filename()).map(Path::to_owned))
}

/// The path, unless it names an in-memory database (empty, or `:memory:`).
fn on_disk(path: &Path) -> Option<&Path> {
    let in_memory = path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':');
    (!in_memory).then_some(path)
}

#[derive(Clone)]
pub(in crate::db) struct Pools {
    pub reader: SqlitePool,
    writer: SqlitePool,
    checkpointer: SqlitePool,
}

impl Pools {
    /// Opens (creating if missing) the database and applies pending migrations.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?;
        if let Some(file) = on_disk(options.get_filename()) {
            keep_private(file).map_err(StoreError::Files)?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that was acknowledged survives a power cut, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES)
            .busy_timeout(BUSY_TIMEOUT)
            .statement_cache_capacity(STATEMENT_CACHE);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Checkpoints run beside the writer (see `checkpoint_continuously`), so that no
            // commit waits while the WAL is copied into the database file.
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READER_CONNECTIONS)
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        tokio::spawn(checkpoint_continuously(
            checkpointer.clone(),
            writer.clone(),
        ));
        Ok(Self {
            reader,
            writer,
            checkpointer,
        })
    }

    /// Takes the write lock up front, so a transaction that reads before it writes never
    /// fails half-way with SQLITE_BUSY. `durable`: the commit is on disk when it returns
    /// (`synchronous=FULL`); otherwise it skips the WAL's fsync (`NORMAL`) and survives the
    /// process being killed, not a power cut.
    pub async fn begin(&self, durable: bool) -> Result<Transaction<'static, Sqlite>, StoreError> {
        let statement = if durable {
            "PRAGMA synchronous = FULL; BEGIN IMMEDIATE"
        } else {
            "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE"
        };
        match self.writer.begin_with(statement).await {
            // A request cancelled while its BEGIN ran (its client went away) leaves the
            // connection inside a transaction that nothing will end. Closing the connection
            // rolls it back; the pool opens a fresh one. The writer pool has one connection,
            // so the one acquired here is that one.
            Err(sqlx::Error::InvalidSavePointStatement) => {
                tracing::warn!("replacing a writer connection left inside a transaction");
                self.writer.acquire().await?.close().await?;
                Ok(self.writer.begin_with(statement).await?)
            }
            begun => Ok(begun?),
        }
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
        self.checkpointer.close().await;
    }
}

/// The database holds password and session hashes, the audit log and event payloads: only
/// the server's user may read it. SQLite gives its WAL and shared-memory files the mode of
/// the database file, so creating that file 0600 makes all three private; files an older
/// version or another tool left readable by others are tightened, with a warning.
fn keep_private(database: &Path) -> std::io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE_MODE)
        .open(database)
    {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = Path::new(&name);
        let Ok(metadata) = std::fs::metadata(path) else {
            continue;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & !PRIVATE_FILE_MODE != 0 {
            tracing::warn!(
                "{} was readable by others (mode {mode:o}); making it private (600)",
                path.display()
            );
            std::fs::set_permissions(path, Permissions::from_mode(PRIVATE_FILE_MODE))?;
        }
    }
    Ok(())
}

/// Copies committed pages from the WAL into the database file, without blocking writers
/// (PASSIVE), until the pool is closed.
async fn checkpoint_continuously(checkpointer: SqlitePool, writer: SqlitePool) {
    let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
    loop {
        ticks.tick().await;
        if checkpointer.is_closed() {
            return;
        }
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&checkpointer)
            .await;
        match passive {
            Ok((_, wal_frames, _)) if wal_frames > WAL_RESET_FRAMES => {
                reset_wal(&writer).await;
            }
            Ok(_) => {}
            Err(_) if checkpointer.is_closed() => return,
            Err(error) => tracing::warn!("checkpoint failed: {error}"),
        }
    }
}

/// Under sustained writing passive checkpoints never catch up (the writer never pauses, so
/// the WAL's end keeps moving: checkpoint starvation) and the WAL grows without bound. Past
/// [`WAL_RESET_FRAMES`] the writer's turn is taken for one TRUNCATE checkpoint, which folds
/// the WAL into the database and empties it; writes wait for that moment.
async fn reset_wal(writer: &SqlitePool) {
    let Ok(mut connection) = writer.acquire().await else {
        return;
    };
    // Readers still on the WAL would make it wait; rather than stall writes, it gives up
    // after a quarter second and is tried again on the next tick.
    for statement in [
        "PRAGMA busy_timeout = 250",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA busy_timeout = 5000",
    ] {
        if let Err(error) = sqlx::query(statement).execute(&mut *connection).await {
            tracing::warn!("resetting the WAL failed: {error}");
        }
    }
}
