//! Commands besides serving.

use std::io::BufRead;

use crate::actions::tokens::TokenError;
use crate::actions::{self, Actor};
use crate::config::Settings;
use crate::db::{Db, StoreError};
use crate::domain::{Email, Password, Role};

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
    let how = ", from the command line";
    let created = actions::users::create(&db, &Actor::System, &email, role, password, how).await;
    db.close().await;
    created?;
    Ok(format!("Created {} {email}", role.label().to_lowercase()))
}

/// `webhook-console token create`: returns the token, for standard output.
pub async fn create_token(settings: &Settings, name: &str) -> Result<String, CliError> {
    let db = Db::open(&settings.database_url).await?;
    let token = actions::tokens::create(&db, &Actor::System, name)
        .await
        .map_err(|error| match error {
            TokenError::Store(error) => error.into(),
            invalid => CliError::Invalid(invalid.to_string()),
        });
    db.close().await;
    token
}
