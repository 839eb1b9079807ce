//! A webhook's custom headers as stored: one JSON list per webhook, secret values sealed
//! like the API key, opened only to be sent or masked.

use serde::{Deserialize, Serialize};

use crate::db::{Source, StoreError};
use crate::domain::{CustomHeaders, HeaderValue, SentHeader};
use crate::secrets::secret_box::{Purpose, SecretBox};

/// One header in the column: a plain `value`, or a `sealed` secret one.
#[derive(Serialize, Deserialize)]
struct StoredHeader {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

/// A header as views may show it: a secret one's value is not opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownHeader {
    pub name: String,
    /// `None` for a secret value.
    pub value: Option<String>,
}

fn stored(column: &str) -> Result<Vec<StoredHeader>, sqlx::Error> {
    serde_json::from_str(column).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The column's value for `headers`: secret values sealed, and those kept taken over from
/// `before` (the column as it was).
pub(super) fn seal(
    secrets: &SecretBox,
    headers: &CustomHeaders,
    before: &str,
) -> Result<String, StoreError> {
    let before = stored(before)?;
    let column: Vec<StoredHeader> = headers
        .iter()
        .map(|header| {
            let (value, sealed) = match (&header.value, header.secret) {
                (HeaderValue::Set(value), false) => (Some(value.clone()), None),
                (HeaderValue::Set(value), true) => {
                    (None, Some(secrets.seal(Purpose::CustomHeader, value)))
                }
                (HeaderValue::KeepStored, _) => {
                    let kept = before
                        .iter()
                        .find(|old| old.name.eq_ignore_ascii_case(&header.name))
                        .and_then(|old| old.sealed.clone());
                    (None, kept)
                }
            };
            StoredHeader {
                name: header.name.clone(),
                value,
                sealed,
            }
        })
        .collect();
    Ok(serde_json::to_string(&column).unwrap_or_else(|_| "[]".to_owned()))
}

/// The column sealed again under another key (a copy to another installation's database).
pub(in crate::db) fn reseal(
    source: &SecretBox,
    target: &SecretBox,
    column: &str,
) -> Result<String, StoreError> {
    let mut headers = stored(column)?;
    for header in &mut headers {
        if let Some(sealed) = &header.sealed {
            let value = source.open(Purpose::CustomHeader, sealed)?;
            header.sealed = Some(target.seal(Purpose::CustomHeader, &value));
        }
    }
    Ok(serde_json::to_string(&headers).unwrap_or_else(|_| "[]".to_owned()))
}

/// The headers as views show them, nothing opened.
pub(super) fn shown(column: &str) -> Result<Vec<ShownHeader>, sqlx::Error> {
    Ok(stored(column)?
        .into_iter()
        .map(|header| ShownHeader {
            name: header.name,
            value: header.value,
        })
        .collect())
}

/// The headers opened, to be sent or masked.
pub(in crate::db) fn open(
    secrets: &SecretBox,
    column: &str,
) -> Result<Vec<SentHeader>, StoreError> {
    stored(column)?
        .into_iter()
        .map(|header| {
            let (value, secret) = match (header.value, header.sealed) {
                (_, Some(sealed)) => (secrets.open(Purpose::CustomHeader, &sealed)?, true),
                (value, None) => (value.unwrap_or_default(), false),
            };
            Ok(SentHeader {
                name: header.name,
                value,
                secret,
            })
        })
        .collect()
}

/// The column as stored: read from the pool, or inside the transaction that changes it.
pub(super) async fn column<'a>(db: impl Into<Source<'a>>, id: i64) -> Result<String, StoreError> {
    let column: Option<String> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT custom_headers FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(e)
    .await?);
    column.ok_or(StoreError::NotFound)
}

/// The webhook's custom headers, secret values opened: for an admin's masked view.
pub async fn custom_headers<'a>(
    db: impl Into<Source<'a>>,
    secrets: &SecretBox,
    id: i64,
) -> Result<Vec<SentHeader>, StoreError> {
    open(secrets, &column(db, id).await?)
}
