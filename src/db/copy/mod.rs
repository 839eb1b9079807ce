//! Copies a whole installation from one database to another (SQLite to PostgreSQL, when a
//! team outgrows one machine): every table a console needs, in one transaction on the
//! target, large tables page by page so memory stays flat. Sealed secrets are opened with
//! the source's key and sealed again with the target's. Sessions, sign-in failures and
//! node heartbeats are not copied: they are short-lived, and people simply sign in again.

mod tables;

use tables::Kind::{Bool, Headers, Int, Sealed, Text};
pub use tables::copied_columns;
use tables::{IDENTITIES, TABLES, Table};

use sqlx::{QueryBuilder, Row};

use super::{Reader, StoreError, WriteTx};
use crate::domain::terms_of;
use crate::secrets::secret_box::SecretBox;

/// Rows read and written at once: 1,000 rows of at most 32 columns stay below either
/// backend's limit on parameters.
const PAGE: i64 = 1000;

#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

/// How many rows a table holds on each side after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target database already holds an installation; copy into an empty one")]
    TargetNotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Keys to open the source's sealed secrets and seal them for the target.
pub struct Keys<'a> {
    pub source: &'a SecretBox,
    pub target: &'a SecretBox,
}

/// Copies everything from `source` into the freshly migrated, empty `target`, inside the
/// caller's transaction on the target; [`counts`] checks the result once committed.
pub async fn copy_installation(
    source: Reader<'_>,
    target: &mut WriteTx,
    keys: Keys<'_>,
) -> Result<(), CopyError> {
    if holds_an_installation(target).await? {
        return Err(CopyError::TargetNotEmpty);
    }
    // The target's own catalog (its migration's defaults) gives way to the source's.
    on_tx!(&mut *target, |e| {
        for table in ["webhook_ids", "event_types", "accounts"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *e)
                .await
                .map_err(StoreError::from)?;
        }
    });
    for table in TABLES {
        let mut after = None;
        loop {
            let rows = read_page(source, table, after, &keys).await?;
            write_rows(target, table, &rows).await?;
            match rows.last() {
                Some(last) if table.paged && rows.len() as i64 == PAGE => {
                    let Value::Int(id) = &last[0] else {
                        unreachable!("paged tables start with their integer key")
                    };
                    after = *id;
                }
                _ => break,
            }
        }
    }
    continue_identities(target).await?;
    index_search_terms(target).await?;
    Ok(())
}

/// The copied events' search terms, computed again on the target (they are hashes of the
/// events' own values, so nothing of the source is needed), page by page.
async fn index_search_terms(target: &mut WriteTx) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page: Vec<(i64, String, String, Option<String>)> =
            on_tx!(&mut *target, |e| sqlx::query_as(
                "SELECT id, data, current_context, idempotency_key FROM events
                 WHERE id > $1 ORDER BY id LIMIT $2"
            )
            .bind(after)
            .bind(PAGE)
            .fetch_all(e)
            .await?);
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.0;
        let rows = page
            .iter()
            .map(|(id, data, context, key)| {
                let json = |text: &str| serde_json::from_str(text).unwrap_or_default();
                (*id, terms_of(&json(data), &json(context), key.as_deref()))
            })
            .collect();
        super::events::insert_search_terms(target, rows).await?;
    }
}

/// Rows per table on both sides, in copy order.
pub async fn counts(source: Reader<'_>, target: Reader<'_>) -> Result<Vec<Copied>, StoreError> {
    let mut counted = Vec::new();
    for table in TABLES {
        counted.push(Copied {
            table: table.name,
            source: count(source, table.name).await?,
            target: count(target, table.name).await?,
        });
    }
    Ok(counted)
}

async fn count(db: Reader<'_>, table: &str) -> Result<i64, StoreError> {
    on_pool!(db, |e| Ok(sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table}"
    ))
    .fetch_one(e)
    .await?))
}

/// Whether the target holds anything of its own beyond what its migrations put there (the
/// default catalog, with `created_at` 0, and the id counter at 0): a custom event type, a
/// session or a sign-in failure is somebody's data too, and would be lost or mixed in.
async fn holds_an_installation(target: &mut WriteTx) -> Result<bool, StoreError> {
    const OWN_ROWS: &[&str] = &[
        "users",
        "sessions",
        "sign_in_failures",
        "audit_log",
        "api_tokens",
        "webhooks",
        "webhook_events",
        "webhook_hourly_stats",
        "events",
        "event_search",
        "deliveries",
        "attempts",
        "event_types WHERE created_at <> 0",
        "webhook_ids WHERE last_id <> 0",
    ];
    let any: Vec<String> = OWN_ROWS
        .iter()
        .map(|rows| format!("EXISTS (SELECT 1 FROM {rows})"))
        .collect();
    let sql = format!("SELECT {}", any.join(" OR "));
    on_tx!(target, |e| Ok(sqlx::query_scalar(&sql)
        .fetch_one(e)
        .await?))
}

async fn read_page(
    db: Reader<'_>,
    table: &Table,
    after: Option<i64>,
    keys: &Keys<'_>,
) -> Result<Vec<Vec<Value>>, StoreError> {
    let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), table.name);
    if table.paged {
        let key = columns[0];
        sql.push_str(&format!(" WHERE {key} > $1 ORDER BY {key} LIMIT {PAGE}"));
    }
    let rows = on_pool!(db, |e| {
        let mut query = sqlx::query(&sql);
        if table.paged {
            query = query.bind(after.unwrap_or(i64::MIN));
        }
        query
            .fetch_all(e)
            .await?
            .iter()
            .map(|row| {
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| {
                        Ok(match kind {
                            Int => Value::Int(row.try_get(i)?),
                            Bool => Value::Bool(row.try_get(i)?),
                            Text => Value::Text(row.try_get(i)?),
                            Sealed(purpose) => {
                                let sealed: Option<String> = row.try_get(i)?;
                                Value::Text(
                                    sealed
                                        .map(|sealed| {
                                            let secret = keys.source.open(*purpose, &sealed)?;
                                            Ok::<_, StoreError>(keys.target.seal(*purpose, &secret))
                                        })
                                        .transpose()?,
                                )
                            }
                            Headers => {
                                let column: String = row.try_get(i)?;
                                Value::Text(Some(crate::db::webhooks::headers::reseal(
                                    keys.source,
                                    keys.target,
                                    &column,
                                )?))
                            }
                        })
                    })
                    .collect::<Result<Vec<Value>, StoreError>>()
            })
            .collect::<Result<Vec<_>, StoreError>>()?
    });
    Ok(rows)
}

async fn write_rows(
    tx: &mut WriteTx,
    table: &Table,
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    on_tx!(tx, |e| {
        let mut insert = QueryBuilder::new(format!(
            "INSERT INTO {} ({}) ",
            table.name,
            columns.join(", ")
        ));
        insert.push_values(rows, |mut row, values| {
            for value in values {
                match value {
                    Value::Int(value) => row.push_bind(*value),
                    Value::Text(value) => row.push_bind(value.clone()),
                    Value::Bool(value) => row.push_bind(*value),
                };
            }
        });
        insert.build().execute(e).await?;
    });
    Ok(())
}

/// Ids the target hands out next follow the copied ones.
async fn continue_identities(tx: &mut WriteTx) -> Result<(), StoreError> {
    let WriteTx::Postgres(tx) = tx else {
        return Ok(()); // SQLite takes the next id after the highest by itself.
    };
    for table in IDENTITIES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                           COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
