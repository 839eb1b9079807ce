//! How storage code reaches either backend: the pools of each, the handles callers pass in
//! ([`Reader`], [`WriteTx`], [`Source`]), the [`Dialect`] for statements spelled twice, and
//! the macros that run one body of code on whichever backend a handle holds.
//!
//! A storage function is written once: `on_tx!(tx, |e| …)` runs its body with `e` bound to
//! the transaction's connection of the backend at hand. Name a second parameter, `|e, d|`,
//! for the [`Dialect`] when a statement is spelled differently on each backend, and a third,
//! `|e, d, DB|` (or `|e, _, DB|`), for sqlx's database type when a query is built with it.

/// Runs the body on a [`WriteTx`](crate::db::WriteTx)'s connection: `e` is that
/// connection; reborrow it with `&mut *e` for each statement.
macro_rules! on_tx {
    ($tx:expr, |$e:ident $(, $d:pat_param $(, $db:ident)?)?| $body:expr) => {
        match $tx {
            $crate::db::WriteTx::Sqlite(tx) => {
                let $e = &mut **tx;
                on_backend!(Sqlite $(, $d $(, $db)?)? => $body)
            }
            $crate::db::WriteTx::Postgres(tx) => {
                let $e = &mut **tx;
                on_backend!(Postgres $(, $d $(, $db)?)? => $body)
            }
        }
    };
}

/// Runs the body on a [`Source`](crate::db::Source): a connection of the readers' pool,
/// or the caller's transaction, bound to `e` (use it once, or reborrow it).
macro_rules! on_read {
    ($source:expr, |$e:ident $(, $d:pat_param $(, $db:ident)?)?| $body:expr) => {
        match ::std::convert::Into::<$crate::db::Source<'_>>::into($source) {
            $crate::db::Source::Sqlite(place) => {
                let mut held = place.hold().await?;
                let $e = &mut *held;
                on_backend!(Sqlite $(, $d $(, $db)?)? => $body)
            }
            $crate::db::Source::Postgres(place) => {
                let mut held = place.hold().await?;
                let $e = &mut *held;
                on_backend!(Postgres $(, $d $(, $db)?)? => $body)
            }
        }
    };
}

/// Runs the body on a [`Reader`](crate::db::Reader): `e` is the readers' pool, for bodies
/// that run several statements, each on whichever connection is free.
macro_rules! on_pool {
    ($reader:expr, |$e:ident $(, $d:pat_param $(, $db:ident)?)?| $body:expr) => {
        match $reader {
            $crate::db::Reader::Sqlite($e) => on_backend!(Sqlite $(, $d $(, $db)?)? => $body),
            $crate::db::Reader::Postgres($e) => {
                on_backend!(Postgres $(, $d $(, $db)?)? => $body)
            }
        }
    };
}

/// The body with the dialect and the database type bound, where the caller named them.
macro_rules! on_backend {
    ($backend:ident => $body:expr) => {
        $body
    };
    ($backend:ident, $d:pat_param => $body:expr) => {{
        let $d = $crate::db::Dialect::$backend;
        $body
    }};
    ($backend:ident, $d:pat_param, $db:ident => $body:expr) => {{
        let $d = $crate::db::Dialect::$backend;
        type $db = ::sqlx::$backend;
        $body
    }};
}

pub(super) mod postgres;
pub(super) mod sqlite;

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Database, Encode, Pool, Postgres, QueryBuilder, Sqlite, Transaction, Type};

use super::StoreError;

#[derive(Clone)]
pub(super) enum Backend {
    Sqlite(sqlite::Pools),
    Postgres(postgres::Pool),
}

/// Which SQL a backend speaks, for the statements spelled differently on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Self::Sqlite => sqlite,
            Self::Postgres => postgres,
        }
    }

    /// Case-insensitive `LIKE`: SQLite's `LIKE` is, PostgreSQL's is not.
    pub fn like(self) -> &'static str {
        self.pick("LIKE", "ILIKE")
    }
}

/// Where reads run when they need no transaction: the pool of readers.
#[derive(Clone, Copy)]
pub enum Reader<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// A writing transaction, as the actions layer holds it: one use case, its audit entry, one
/// commit. Callers name this, not the driver's types.
pub enum WriteTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(tx) => tx.commit().await?,
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// What a read runs on: the readers, or the caller's transaction (to see its own writes,
/// or to keep what it read true until the commit).
pub enum Source<'a> {
    Sqlite(Place<'a, Sqlite>),
    Postgres(Place<'a, Postgres>),
}

/// One backend's place to read: its readers' pool or a transaction's connection.
pub enum Place<'a, DB: Database> {
    Pool(&'a Pool<DB>),
    Tx(&'a mut DB::Connection),
}

impl<'a, DB: Database> Place<'a, DB> {
    /// A connection to read on: one of the pool's, or the transaction's own.
    pub async fn hold(self) -> Result<Held<'a, DB>, sqlx::Error> {
        Ok(match self {
            Self::Pool(pool) => Held::Pooled(pool.acquire().await?),
            Self::Tx(connection) => Held::Borrowed(connection),
        })
    }
}

/// A connection held for one read.
pub enum Held<'a, DB: Database> {
    Pooled(PoolConnection<DB>),
    Borrowed(&'a mut DB::Connection),
}

impl<DB: Database> Deref for Held<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Pooled(connection) => connection,
            Self::Borrowed(connection) => connection,
        }
    }
}

impl<DB: Database> DerefMut for Held<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(connection) => connection,
            Self::Borrowed(connection) => connection,
        }
    }
}

impl<'a> From<Reader<'a>> for Source<'a> {
    fn from(reader: Reader<'a>) -> Self {
        match reader {
            Reader::Sqlite(pool) => Self::Sqlite(Place::Pool(pool)),
            Reader::Postgres(pool) => Self::Postgres(Place::Pool(pool)),
        }
    }
}

impl<'a> From<&'a mut WriteTx> for Source<'a> {
    fn from(tx: &'a mut WriteTx) -> Self {
        match tx {
            WriteTx::Sqlite(tx) => Self::Sqlite(Place::Tx(&mut **tx)),
            WriteTx::Postgres(tx) => Self::Postgres(Place::Tx(&mut **tx)),
        }
    }
}

/// A value that binds to a statement of backend `DB`: what query-building helpers shared
/// by both backends ask of their parameters.
pub(crate) trait Bind<'q, DB: Database>: Encode<'q, DB> + Type<DB> + Send + 'q {}

impl<'q, DB: Database, T: Encode<'q, DB> + Type<DB> + Send + 'q> Bind<'q, DB> for T {}

/// `IN (…)` for a list of ids. SQLite binds each id; PostgreSQL binds one array, so that
/// the statement's text, and with it the plan PostgreSQL caches, stays the same however
/// long the list: planning a join anew for each length costs more than running it.
pub(crate) trait IdList {
    /// ` IN (ids)`, matching none when `ids` is empty.
    fn push_in(&mut self, ids: &[i64]) -> &mut Self;
    /// ` NOT IN (ids)`, matching all when `ids` is empty.
    fn push_not_in(&mut self, ids: &[i64]) -> &mut Self;
}

impl IdList for QueryBuilder<'_, Sqlite> {
    fn push_in(&mut self, ids: &[i64]) -> &mut Self {
        self.push(" IN (");
        let mut separated = self.separated(", ");
        for id in ids {
            separated.push_bind(*id);
        }
        self.push(")")
    }

    fn push_not_in(&mut self, ids: &[i64]) -> &mut Self {
        self.push(" NOT");
        self.push_in(ids)
    }
}

impl IdList for QueryBuilder<'_, Postgres> {
    fn push_in(&mut self, ids: &[i64]) -> &mut Self {
        self.push(" = ANY(").push_bind(ids.to_vec()).push(")")
    }

    fn push_not_in(&mut self, ids: &[i64]) -> &mut Self {
        self.push(" <> ALL(").push_bind(ids.to_vec()).push(")")
    }
}
