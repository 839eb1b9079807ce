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

/// Which entries the Audit Log shows; every part left out matches all.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Part of the actor, action, target or summary.
    pub search: Option<String>,
    /// The actor exactly, as shown ("ada@example.com", "token:Shop", "system").
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Leaves out sign-ins and sign-outs, which outnumber everything else.
    pub changes_only: bool,
}

pub async fn count(db: impl SqliteExecutor<'_>, filter: &AuditFilter) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::new("SELECT COUNT(*) FROM audit_log WHERE 1 = 1");
    push_filter(&mut query, filter);
    Ok(query.build_query_scalar().fetch_one(db).await?)
}

/// Newest first.
pub async fn list(
    db: impl SqliteExecutor<'_>,
    filter: &AuditFilter,
    page: Pager,
) -> Result<Vec<Entry>, StoreError> {
    let mut query = QueryBuilder::new(
        "SELECT id, at, actor, action, target_type, target, summary FROM audit_log WHERE 1 = 1",
    );
    push_filter(&mut query, filter);
    query
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset());
    Ok(query.build_query_as().fetch_all(db).await?)
}

fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &AuditFilter) {
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", super::escape_like(search));
        query.push(" AND (");
        let mut columns = query.separated(" OR ");
        for column in ["actor", "action", "target", "summary"] {
            columns
                .push(format!("{column} LIKE "))
                .push_bind_unseparated(pattern.clone())
                .push_unseparated(" ESCAPE '\\'");
        }
        query.push(")");
    }
    if let Some(actor) = &filter.actor {
        query.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(action) = filter.action {
        query.push(" AND action = ").push_bind(action);
    }
    if filter.changes_only {
        query.push(" AND action NOT IN (");
        let mut actions = query.separated(", ");
        for action in AuditAction::SESSIONS {
            actions.push_bind(action);
        }
        query.push(")");
    }
    if let Some(from) = filter.from {
        query.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        query.push(" AND at < ").push_bind(until);
    }
}

/// Everyone and everything that has done something, for the actor filter.
pub async fn actors(db: impl SqliteExecutor<'_>) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT DISTINCT actor FROM audit_log ORDER BY actor")
            .fetch_all(db)
            .await?,
    )
}
