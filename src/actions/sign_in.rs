//! Signing in and out: throttled attempts and their audit entries.

use std::time::Duration;

use super::{Actor, Audit, record_alone};
use crate::db::sign_in_failures::{self, Attempt, Limit, Limits};
use crate::db::{Db, StoreError};
use crate::domain::AuditAction;

/// SPEC §6. Five failures per email from one address are enough for typos and too few for
/// guessing; the same email from all addresses may fail 100 times an hour, so a spray from
/// many addresses stays slow, while failures from one address never lock the right password
/// out from another; one address may try several accounts (an office behind one NAT), but
/// not many.
const LIMITS: Limits = Limits {
    per_email_and_client: Limit {
        failures: 5,
        window: Duration::from_secs(15 * 60),
    },
    per_email: Limit {
        failures: 100,
        window: Duration::from_secs(60 * 60),
    },
    per_client: Limit {
        failures: 20,
        window: Duration::from_secs(15 * 60),
    },
};
/// Emails longer than this are not emails; the count keeps no more.
const MAX_EMAIL_CHARS: usize = 254;
/// What the audit log names for a failed sign-in whose email was no email address.
const NOT_AN_EMAIL: &str = "(not an email address)";

/// Counts the attempt against the typed email and the client's address before any
/// password is checked (see [`sign_in_failures::count_attempt`]). A browser that signed in
/// to this email before is never refused by the per-email limit: failures sprayed from
/// elsewhere cannot lock its owner out.
pub async fn count_attempt(
    db: &Db,
    typed_email: &str,
    client: &str,
    known_browser: bool,
) -> Result<Attempt, StoreError> {
    let limits = match known_browser {
        true => LIMITS.for_a_known_browser(),
        false => LIMITS.all(),
    };
    let typed_email: String = typed_email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_CHARS)
        .collect();
    let mut tx = db.begin_write().await?;
    let attempt =
        sign_in_failures::count_attempt(&mut tx, &typed_email, client, limits, db.now()).await?;
    tx.commit().await?;
    Ok(attempt)
}

/// The attempt does not count: it was never checked (no hasher was free), or the password
/// was right without a sign-in to record (a password change).
pub async fn uncount_attempt(db: &Db, attempt: i64) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sign_in_failures::forget(&mut tx, attempt).await?;
    tx.commit().await?;
    Ok(())
}

/// The password was right: the attempt is no failure, and the sign-in is recorded.
pub async fn succeeded(db: &Db, attempt: i64, email: &str, client: &str) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    sign_in_failures::forget(&mut tx, attempt).await?;
    Audit {
        actor: &Actor::User(email.to_owned()),
        action: AuditAction::SignIn,
        target_type: "user",
        target: email,
        summary: format!("from {client}"),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a failed sign-in; the email only when it is one, never arbitrary typed text.
pub async fn failed(db: &Db, email: Option<&str>, client: &str) -> Result<(), StoreError> {
    let who = email.unwrap_or(NOT_AN_EMAIL);
    let audit = Audit {
        actor: &Actor::User(who.to_owned()),
        action: AuditAction::SignInFailed,
        target_type: "user",
        target: who,
        summary: format!("wrong email or password, from {client}"),
    };
    record_alone(db, audit).await
}

pub async fn signed_out(db: &Db, email: &str) -> Result<(), StoreError> {
    let audit = Audit {
        actor: &Actor::User(email.to_owned()),
        action: AuditAction::SignOut,
        target_type: "user",
        target: email,
        summary: String::new(),
    };
    record_alone(db, audit).await
}
