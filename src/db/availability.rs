//! Whether the database can serve, watched all the time. When it stops answering, writes
//! are refused at once (503) instead of each waiting out a timeout, the engine stops
//! claiming, and everything goes on by itself when it answers again. A full disk stops
//! writes only: reads go on.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Db, StoreError};

/// While the database serves, a look this often: an outage is noticed within about a second.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// While it does not, a look this often: work resumes soon after it returns.
const OUTAGE_INTERVAL: Duration = Duration::from_millis(250);

/// Why the database cannot take work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Outage {
    /// Down, restarting, refusing connections, or not answering in time.
    #[error("the database is unreachable: {0}")]
    Unreachable(String),
    /// Writes fail for want of disk space; reads go on.
    #[error("the database's disk is full: writes are refused until space is freed; reads go on")]
    DiskFull,
}

/// The last word on the database's state, shared by every clone of a [`Db`].
#[derive(Clone)]
pub(super) struct Availability(Arc<watch::Sender<Option<Outage>>>);

impl Availability {
    pub fn new() -> Self {
        Self(Arc::new(watch::Sender::new(None)))
    }

    pub fn outage(&self) -> Option<Outage> {
        self.0.borrow().clone()
    }

    /// Records what was seen; a change is logged once, not on every failed request.
    pub fn set(&self, seen: Option<Outage>) {
        let before = self.outage();
        if before == seen {
            return;
        }
        match (&before, &seen) {
            (_, Some(outage)) => tracing::warn!("{outage}; refusing writes until it recovers"),
            (Some(outage), None) => tracing::info!("the database serves again (was: {outage})"),
            (None, None) => {}
        }
        self.0.send_replace(seen);
    }

    /// Resolves once nothing is known to be wrong.
    pub async fn serving(&self) {
        let mut state = self.0.subscribe();
        let _ = state.wait_for(Option::is_none).await;
    }
}

impl Db {
    /// Why the database cannot take work right now, if it cannot.
    pub fn outage(&self) -> Option<Outage> {
        self.availability.outage()
    }

    /// The longest a request waits for the database.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Takes note of a failure: an outage seen by any caller is known to all at once.
    pub fn saw(&self, error: &StoreError) {
        if let Some(outage) = error.outage() {
            self.availability.set(Some(outage));
        }
    }

    /// Resolves once the database is not known to be down (at once when it is not).
    pub async fn serving(&self) {
        self.availability.serving().await;
    }

    /// Watches the database until `shutdown`: a read while it serves, and while its disk is
    /// full a small write, the only proof that writes work again.
    pub async fn keep_watch(self, shutdown: CancellationToken) {
        loop {
            let interval = match self.outage() {
                None => WATCH_INTERVAL,
                Some(_) => OUTAGE_INTERVAL,
            };
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = shutdown.cancelled() => return,
            }
            let seen = self.look(self.wait).await;
            self.availability.set(seen);
        }
    }

    /// What a look finds now, waiting at most `wait`.
    pub async fn look(&self, wait: Duration) -> Option<Outage> {
        let look = async {
            match self.outage() {
                Some(Outage::DiskFull) => self.probe_write().await,
                _ => self.ping().await,
            }
        };
        match tokio::time::timeout(wait, look).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(
                error
                    .outage()
                    .unwrap_or_else(|| Outage::Unreachable(error.to_string())),
            ),
            Err(_) => Some(Outage::Unreachable(format!(
                "no answer within {} s",
                wait.as_secs_f64()
            ))),
        }
    }
}

impl StoreError {
    /// Whether this failure is the database's state rather than the request: such a request
    /// may succeed when tried again later.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            Self::Unavailable(outage) => Some(outage.clone()),
            Self::Database(error) => outage_of(error),
            _ => None,
        }
    }
}

/// SQLSTATE classes and codes that mean the server, not the statement, failed.
const POSTGRES_CONNECTION_EXCEPTION: &str = "08";
const POSTGRES_UNAVAILABLE: [&str; 5] = [
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "53300", // too_many_connections
    "57014", // query_canceled (by a server going down)
];
const POSTGRES_DISK_FULL: &str = "53100";
/// SQLite's primary result codes: SQLITE_FULL, and SQLITE_BUSY past the busy timeout.
const SQLITE_FULL: i32 = 13;
const SQLITE_BUSY: i32 = 5;

fn outage_of(error: &sqlx::Error) -> Option<Outage> {
    let unreachable = || Some(Outage::Unreachable(error.to_string()));
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => unreachable(),
        sqlx::Error::Database(database) => {
            let code = database.code()?;
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                return match code.parse::<i32>().map(|extended| extended & 0xff) {
                    Ok(SQLITE_FULL) => Some(Outage::DiskFull),
                    Ok(SQLITE_BUSY) => unreachable(),
                    _ => None,
                };
            }
            if code == POSTGRES_DISK_FULL {
                Some(Outage::DiskFull)
            } else if code.starts_with(POSTGRES_CONNECTION_EXCEPTION)
                || POSTGRES_UNAVAILABLE.contains(&code.as_ref())
            {
                unreachable()
            } else {
                None
            }
        }
        _ => None,
    }
}
