use std::sync::LazyLock;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

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

/// Argon2id with the crate's defaults, which are OWASP's recommendation
/// (19 MiB, 2 iterations, 1 lane). Runs off the async threads: it takes tens of ms.
pub async fn hash_password(password: Password) -> String {
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
pub async fn verify_password(password: String, stored_hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
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
    .unwrap_or(false)
}
