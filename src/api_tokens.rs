//! Verified API tokens, remembered briefly so that a busy publisher's requests are not each
//! a database read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::Timestamp;

/// How long a verified token is trusted without asking the database again. Revoking in this
/// process forgets it at once; another process sharing the database notices within this time.
const VERIFIED_FOR: Duration = Duration::from_secs(5);
/// "Last used" is kept to the minute: writing it on every call would put a write in front
/// of every publish.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);
/// Recently verified tokens, by SHA-256, so that a busy publisher's requests are not each a
/// database read; and when each token's "last used" was last written.
#[derive(Debug, Default)]
pub struct TokenCache {
    verified: Mutex<HashMap<String, (i64, String, Instant)>>,
    last_used_written: Mutex<HashMap<i64, Timestamp>>,
}

impl TokenCache {
    /// The (id, name) of a token verified within [`VERIFIED_FOR`].
    pub fn get(&self, digest: &str) -> Option<(i64, String)> {
        let verified = self.verified.lock().ok()?;
        let (id, name, at) = verified.get(digest)?;
        (at.elapsed() < VERIFIED_FOR).then(|| (*id, name.clone()))
    }

    pub fn put(&self, digest: String, id: i64, name: String) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.insert(digest, (id, name, Instant::now()));
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
