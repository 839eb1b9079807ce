//! What needs a PostgreSQL server: several nodes on one database, the database going away
//! and coming back, moving an SQLite installation over. Run by the PostgreSQL pass of
//! `scripts/test` (`cargo test --test postgres` under `scripts/with-postgres`), never by the
//! SQLite pass, so no test here passes without running.

#[path = "../common/mod.rs"]
mod common;

mod database_outage;
mod live_log;
mod migrate;
mod multi_node;
mod schema;
mod storage;
