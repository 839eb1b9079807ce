//! Commands besides serving.

use std::io::BufRead;

use crate::api_tokens::{self, TokenError};
use crate::config::Settings;
use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError, users};
use crate::domain::{AuditAction, Email, Password, Role};
use crate::password::hash_password;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("could not read the password from standard input")]
    Stdin(#[from] std::io::Error),
    #[error("storage failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::EmailTaken,
            other => Self::Store(other),
        }
    }
}

/// `webhook-console user create`: the password is the first line of `input`, so it never
/// shows in the process list or the shell history.
pub async fn create_user(
    settings: &Settings,
    email: &str,
    role: &str,
    mut input: impl BufRead,
) -> Result<String, CliError> {
    let email = Email::parse(email).map_err(|e| CliError::Invalid(e.to_string()))?;
    let role = Role::parse(role).map_err(|e| CliError::Invalid(e.to_string()))?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    let password = Password::parse(line.trim_end_matches(['\r', '\n']))
        .map_err(|e| CliError::Invalid(format!("password: {e}")))?;
    let db = Db::open(&settings.database_url).await?;
    let hash = hash_password(password).await;
    let mut tx = db.begin_write().await?;
    users::create(&mut tx, &email, role, &hash).await?;
    NewEntry::new(
        "system",
        AuditAction::UserCreated,
        "user",
        email.as_str(),
        format!("role {}, from the command line", role.label()),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    db.close().await;
    Ok(format!("Created {} {email}", role.label().to_lowercase()))
}

/// `webhook-console token create`: returns the token, for standard output.
pub async fn create_token(settings: &Settings, name: &str) -> Result<String, CliError> {
    let db = Db::open(&settings.database_url).await?;
    let token = api_tokens::create(&db, name, "system")
        .await
        .map_err(|error| match error {
            TokenError::Store(error) => error.into(),
            invalid => CliError::Invalid(invalid.to_string()),
        });
    db.close().await;
    token
}
