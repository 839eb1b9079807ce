//! The audit log: append-only here (no update or delete functions) and in the database
//! (triggers refuse both).

use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};

use super::StoreError;
use crate::clock::Timestamp;
use crate::domain::AuditAction;
use crate::paging::Pager;

/// One change, written in the same transaction as the change itself.
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub action: AuditAction,
    pub target_type: &'a str,
    pub target: &'a str,
    pub summary: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: AuditAction,
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
    pub async fn record(
        self,
        conn: &mut SqliteConnection,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target_type, target, summary)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(at)
        .bind(self.actor)
        .bind(self.action)
        .bind(self.target_type)
        .bind(self.target)
        .bind(self.summary)
        .execute(conn)
        .await?;
        Ok(())
    }
}

pub async fn count(db: impl SqliteExecutor<'_>, search: Option<&str>) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::new("SELECT COUNT(*) FROM audit_log");
    push_search(&mut query, search);
    Ok(query.build_query_scalar().fetch_one(db).await?)
}

/// Newest first.
pub async fn list(
    db: impl SqliteExecutor<'_>,
    search: Option<&str>,
    page: Pager,
) -> Result<Vec<Entry>, StoreError> {
    let mut query = QueryBuilder::new(
        "SELECT id, at, actor, action, target_type, target, summary FROM audit_log",
    );
    push_search(&mut query, search);
    query
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset());
    Ok(query.build_query_as().fetch_all(db).await?)
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
