//! Look-alike keys for names stored before they existed (migrations 0011 on SQLite, 0003
//! on PostgreSQL): SQL cannot compute a TR39 skeleton, so the server keys them at start.

use super::{Db, StoreError};
use crate::domain::look_alike_key;

/// The tables whose names are unique by look-alike key, with the rows that must be.
const NAMED: [(&str, &str); 2] = [("webhooks", "TRUE"), ("api_tokens", "revoked_at IS NULL")];

/// Keys every name without one. A name whose key another row holds keeps none (the unique
/// index ignores it), and is reported so an admin renames it: the console refuses its
/// next edit with a message naming the other.
pub async fn key_earlier_names(db: &Db) -> Result<(), StoreError> {
    for (table, kept_unique) in NAMED {
        let unkeyed = format!(
            "SELECT id, name FROM {table} WHERE name_look_alike_key IS NULL AND {kept_unique}"
        );
        let rows: Vec<(i64, String)> = on_pool!(db.reader(), |e| {
            sqlx::query_as(&unkeyed).fetch_all(e).await?
        });
        if rows.is_empty() {
            continue;
        }
        let set_key = format!(
            "UPDATE {table} SET name_look_alike_key = $1
             WHERE id = $2 AND name_look_alike_key IS NULL AND NOT EXISTS (
                 SELECT 1 FROM {table} WHERE name_look_alike_key = $1 AND {kept_unique})"
        );
        let mut tx = db.begin_write().await?;
        for (id, name) in rows {
            let keyed = on_tx!(&mut tx, |e| sqlx::query(&set_key)
                .bind(look_alike_key(&name))
                .bind(id)
                .execute(e)
                .await?
                .rows_affected());
            if keyed == 0 {
                tracing::warn!(
                    table,
                    id,
                    name,
                    "this name looks like another one's; rename it so the two can be told apart"
                );
            }
        }
        tx.commit().await?;
    }
    Ok(())
}
