//! Verified API tokens, remembered briefly so that a busy publisher's requests are not each
//! a database read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::Timestamp;
use crate::domain::AccountKey;

/// How long a verified token is trusted without asking the database again. Revoking in this
/// process forgets it at once; another process sharing the database notices within this time.
const VERIFIED_FOR: Duration = Duration::from_secs(5);
/// "Last used" is kept to the minute: writing it on every call would put a write in front
/// of every publish.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);
/// A token as verified: its id, name and account, and when.
#[derive(Debug)]
struct Verified {
    id: i64,
    name: String,
    account: Option<AccountKey>,
    at: Instant,
}

/// Recently verified tokens, by SHA-256, so that a busy publisher's requests are not each a
/// database read; and when each token's "last used" was last written.
#[derive(Debug, Default)]
pub struct TokenCache {
    verified: Mutex<HashMap<String, Verified>>,
    last_used_written: Mutex<HashMap<i64, Timestamp>>,
}

impl TokenCache {
    /// The (id, name, account) of a token verified within [`VERIFIED_FOR`].
    pub fn get(&self, digest: &str) -> Option<(i64, String, Option<AccountKey>)> {
        let verified = self.verified.lock().ok()?;
        let found = verified.get(digest)?;
        (found.at.elapsed() < VERIFIED_FOR)
            .then(|| (found.id, found.name.clone(), found.account.clone()))
    }

    pub fn put(&self, digest: String, id: i64, name: String, account: Option<AccountKey>) {
        if let Ok(mut verified) = self.verified.lock() {
            let at = Instant::now();
            verified.insert(
                digest,
                Verified {
                    id,
                    name,
                    account,
                    at,
                },
            );
        }
    }

    /// After a revocation: every token is checked against the database again.
    pub fn forget_all(&self) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.clear();
        }
    }

    /// True when the token's "last used" is due to be written, and notes that it is.
    pub fn last_used_due(&self, id: i64, now: Timestamp) -> bool {
        let Ok(mut written) = self.last_used_written.lock() else {
            return false;
        };
        let recent = written
            .get(&id)
            .is_some_and(|last| last.until(now) < LAST_USED_RESOLUTION);
        if !recent {
            written.insert(id, now);
        }
        !recent
    }
}
