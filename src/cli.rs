//! Commands besides serving.

use std::io::BufRead;

use crate::actions::tokens::TokenError;
use crate::actions::{self, Actor};
use crate::config::Settings;
use crate::db::copy::{self, CopyError, Keys};
use crate::db::{self, Db, StoreError};
use crate::domain::{AccountKey, Email, Password, Role};
use crate::secret_key::{KeyError, MasterKey};

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
    #[error("could not load the secret key")]
    Key(#[from] KeyError),
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
    let db = Db::open_waiting(&settings.database_url, *settings.database_wait).await?;
    let how = ", from the command line";
    let created = actions::users::create(&db, &Actor::System, &email, role, password, how).await;
    db.close().await;
    created?;
    Ok(format!("Created {} {email}", role.label().to_lowercase()))
}

/// `webhook-console token create`: returns the token, for standard output.
pub async fn create_token(
    settings: &Settings,
    name: &str,
    account: Option<&str>,
) -> Result<String, CliError> {
    let account = account
        .map(AccountKey::parse)
        .transpose()
        .map_err(|error| CliError::Invalid(error.message.unwrap_or_default().into_owned()))?;
    let db = Db::open_waiting(&settings.database_url, *settings.database_wait).await?;
    let token = actions::tokens::create(&db, &Actor::System, name, account.as_ref())
        .await
        .map_err(|error| match error {
            TokenError::Store(StoreError::UnknownAccount(key)) => CliError::Invalid(format!(
                "there is no account “{key}”: create it first (PUT /api/v1/accounts/{key})"
            )),
            TokenError::Store(error) => error.into(),
            invalid => CliError::Invalid(invalid.to_string()),
        });
    db.close().await;
    token
}

/// `webhook-console migrate-to --database-url postgres://…`: copies the SQLite installation
/// at `from` into the empty PostgreSQL database, in one transaction, and checks that every
/// table holds as many rows on both sides. Stop the server first: what it writes during the
/// copy would be missing.
/// `webhook-console backup --to FILE`: a consistent copy of the running SQLite database,
/// and of its key file (without which its secrets cannot be opened), both private.
pub async fn backup(settings: &Settings, to: &std::path::Path) -> Result<String, CliError> {
    let from = &settings.database_url;
    let exists = matches!(db::sqlite_file(from), Ok(Some(path)) if path.exists());
    if db::is_postgres(from) || !exists {
        return Err(CliError::Invalid(format!(
            "--database-url must name an existing SQLite database (sqlite://…); {from} is not \
             one (back PostgreSQL up with pg_dump)"
        )));
    }
    if to.exists() {
        return Err(CliError::Invalid(format!(
            "{} exists already; name a new file",
            to.display()
        )));
    }
    let db = Db::open(from).await?;
    let copied = db::backup_into(&db, to).await;
    db.close().await;
    copied?;
    let key = crate::secret_key::copy_key_file(from, to)?;
    Ok(match key {
        Some(key) => format!("Backed up to {} (key: {})", to.display(), key.display()),
        None => format!(
            "Backed up to {} (its secrets open with WEBHOOK_CONSOLE_SECRET_KEY)",
            to.display()
        ),
    })
}

pub async fn migrate_to(settings: &Settings, from: &str) -> Result<String, CliError> {
    let to = &settings.database_url;
    if !db::is_postgres(to) {
        return Err(CliError::Invalid(
            "--database-url must name the PostgreSQL database to copy into (postgres://…)".into(),
        ));
    }
    // Opening an SQLite database creates it: a mistyped path would copy an empty one.
    let exists = matches!(db::sqlite_file(from), Ok(Some(path)) if path.exists());
    if db::is_postgres(from) || !exists {
        return Err(CliError::Invalid(format!(
            "--from must name an existing SQLite database (sqlite://…); {from} is not one"
        )));
    }
    let Some(target_key) = settings.secret_key.as_ref() else {
        return Err(CliError::Invalid(
            "set WEBHOOK_CONSOLE_SECRET_KEY to the key every PostgreSQL node will use: \
             webhook secrets are sealed again with it"
                .into(),
        ));
    };
    let source_secrets = MasterKey::of_installation(target_key, from)?.secret_box();
    let target_secrets = MasterKey::load(Some(target_key), to)?.secret_box();
    let source = Db::open(from).await?;
    let target = Db::open(to).await?;
    let copied = copy_and_count(&source, &target, &source_secrets, &target_secrets).await;
    source.close().await;
    target.close().await;
    let counts = copied?;
    let mut report = String::from("table                  rows copied\n");
    for count in &counts {
        report.push_str(&format!("{:<22} {:>11}\n", count.table, count.target));
    }
    let differing: Vec<String> = counts
        .iter()
        .filter(|count| count.source != count.target)
        .map(|count| format!("{} ({} → {})", count.table, count.source, count.target))
        .collect();
    if !differing.is_empty() {
        return Err(CliError::Invalid(format!(
            "{report}counts differ after the copy: {}",
            differing.join(", ")
        )));
    }
    report.push_str("Every table holds as many rows as in the source.");
    Ok(report)
}

async fn copy_and_count(
    source: &Db,
    target: &Db,
    source_secrets: &crate::secrets::secret_box::SecretBox,
    target_secrets: &crate::secrets::secret_box::SecretBox,
) -> Result<Vec<copy::Copied>, CliError> {
    let mut tx = target.begin_batch().await?;
    let keys = Keys {
        source: source_secrets,
        target: target_secrets,
    };
    match copy::copy_installation(source.reader(), &mut tx, keys).await {
        Ok(()) => {}
        Err(CopyError::TargetNotEmpty) => {
            return Err(CliError::Invalid(CopyError::TargetNotEmpty.to_string()));
        }
        Err(CopyError::Store(error)) => return Err(error.into()),
    }
    tx.commit().await?;
    Ok(copy::counts(source.reader(), target.reader()).await?)
}
