use std::sync::LazyLock;
use std::thread::available_parallelism;
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::domain::Password;

/// Checked when the email is unknown, so that answering takes as long as for a real account
/// and the timing does not tell which emails have one.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(
            b"no account has this password",
            &SaltString::generate(&mut OsRng),
        )
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Each Argon2 run holds 19 MiB and a core for tens of milliseconds: no more run at once than
/// there are cores, so a burst of sign-ins waits its turn instead of taking memory.
static HASHERS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(available_parallelism().map_or(2, usize::from)));

/// How long a sign-in waits for a free hasher before it is asked to come back: enough for a
/// queue of a few dozen honest sign-ins, short enough that a flood gets an answer.
const SIGN_IN_WAIT: Duration = Duration::from_secs(2);

/// Every hasher stayed busy for [`SIGN_IN_WAIT`]; nothing was checked.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins at once")]
pub struct Busy;

/// Argon2id with the crate's defaults, which are OWASP's recommendation
/// (19 MiB, 2 iterations, 1 lane). Runs off the async threads: it takes tens of ms. Setting
/// a password is rare and done by someone already trusted, so it waits for its turn.
pub async fn hash_password(password: Password) -> String {
    let _permit = HASHERS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(
                password.expose().as_bytes(),
                &SaltString::generate(&mut OsRng),
            )
            .map(|hash| hash.to_string())
            .expect("Argon2 hashes any password within the length limits")
    })
    .await
    .expect("hashing task")
}

/// `stored_hash` is `None` for an unknown email: a dummy hash is checked instead.
pub async fn verify_password(password: String, stored_hash: Option<String>) -> Result<bool, Busy> {
    let _permit = sign_in_turn().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let known = stored_hash.is_some();
        let hash = stored_hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = PasswordHash::new(&hash).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        known && matches
    })
    .await
    .unwrap_or(false))
}

async fn sign_in_turn() -> Result<SemaphorePermit<'static>, Busy> {
    match tokio::time::timeout(SIGN_IN_WAIT, HASHERS.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Busy),
    }
}
