//! The audit log: append-only here (no update or delete functions) and in the database
//! (triggers refuse both).

use sqlx::{Database, FromRow, QueryBuilder};

use super::{Bind, Dialect, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::paging::Pager;
use crate::domain::{AccountKey, AuditAction};

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

    /// Appends the entry, in `account`'s log, inside the caller's transaction.
    pub async fn record(
        self,
        tx: &mut WriteTx,
        at: Timestamp,
        account: &AccountKey,
    ) -> Result<(), StoreError> {
        on_tx!(tx, |e| sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target_type, target, summary, account)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at)
        .bind(self.actor)
        .bind(self.action)
        .bind(self.target_type)
        .bind(self.target)
        .bind(self.summary)
        .bind(account.as_str())
        .execute(e)
        .await?
        .rows_affected());
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

impl AuditFilter {
    /// Whether it leaves any entry out.
    pub fn is_narrowed(&self) -> bool {
        self.search.is_some()
            || self.actor.is_some()
            || self.action.is_some()
            || self.changes_only
            || self.from.is_some()
            || self.until.is_some()
    }
}

pub async fn count<'a>(db: impl Into<Source<'a>>, filter: &AuditFilter) -> Result<i64, StoreError> {
    on_read!(db, |e, d| {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM audit_log WHERE 1 = 1");
        push_filter(&mut query, d, filter);
        Ok(query.build_query_scalar().fetch_one(e).await?)
    })
}

/// Newest first.
pub async fn list<'a>(
    db: impl Into<Source<'a>>,
    filter: &AuditFilter,
    page: Pager,
) -> Result<Vec<Entry>, StoreError> {
    on_read!(db, |e, d| {
        let mut query = QueryBuilder::new(
            "SELECT id, at, actor, action, target_type, target, summary FROM audit_log
             WHERE 1 = 1",
        );
        push_filter(&mut query, d, filter);
        query
            .push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        Ok(query.build_query_as().fetch_all(e).await?)
    })
}

fn push_filter<'q, DB: Database>(
    query: &mut QueryBuilder<'q, DB>,
    dialect: Dialect,
    filter: &AuditFilter,
) where
    String: Bind<'q, DB>,
    AuditAction: Bind<'q, DB>,
    Timestamp: Bind<'q, DB>,
{
    if super::matches_nothing(query, &[&filter.search, &filter.actor]) {
        return;
    }
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", super::escape_like(search));
        query.push(" AND (");
        let mut columns = query.separated(" OR ");
        for column in ["actor", "action", "target", "summary"] {
            columns
                .push(format!("{column} {} ", dialect.like()))
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
pub async fn actors<'a>(db: impl Into<Source<'a>>) -> Result<Vec<String>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_scalar(
        "SELECT DISTINCT actor FROM audit_log ORDER BY actor"
    )
    .fetch_all(e)
    .await?))
}
