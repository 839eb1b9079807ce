//! The audit log: append-only here (no update or delete functions) and in the database
//! (triggers refuse both).

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::{StoreError, now_ms};
use crate::domain::AuditAction;

/// One change, written in the same transaction as the change itself.
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub action: AuditAction,
    pub target_type: &'a str,
    pub target: &'a str,
    pub summary: String,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target: String,
    pub summary: String,
}

impl<'a> NewEntry<'a> {
    pub fn new(
        actor: &'a str,
        action: AuditAction,
        target_type: &'a str,
        target: &'a str,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            actor,
            action,
            target_type,
            target,
            summary: summary.into(),
        }
    }

    /// Appends the entry inside the caller's transaction.
    pub async fn record(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target_type, target, summary)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(now_ms())
        .bind(self.actor)
        .bind(self.action.as_db())
        .bind(self.target_type)
        .bind(self.target)
        .bind(self.summary)
        .execute(conn)
        .await?;
        Ok(())
    }
}

pub async fn count(pool: &SqlitePool, search: Option<&str>) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::new("SELECT COUNT(*) FROM audit_log");
    push_search(&mut query, search);
    Ok(query.build_query_scalar().fetch_one(pool).await?)
}

/// Newest first.
pub async fn list(
    pool: &SqlitePool,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let mut query = QueryBuilder::new(
        "SELECT id, at, actor, action, target_type, target, summary FROM audit_log",
    );
    push_search(&mut query, search);
    query
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build().fetch_all(pool).await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

fn push_search(query: &mut QueryBuilder<'_, Sqlite>, search: Option<&str>) {
    let Some(search) = search else { return };
    let pattern = format!("%{}%", super::escape_like(search));
    query.push(" WHERE ");
    let mut columns = query.separated(" OR ");
    for column in ["actor", "action", "target", "summary"] {
        columns
            .push(format!("{column} LIKE "))
            .push_bind_unseparated(pattern.clone())
            .push_unseparated(" ESCAPE '\\'");
    }
}

fn decode(row: &SqliteRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target_type: row.try_get("target_type")?,
        target: row.try_get("target")?,
        summary: row.try_get("summary")?,
    })
}
