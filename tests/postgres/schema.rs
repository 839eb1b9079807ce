//! The schema is written three times: SQLite's migrations, PostgreSQL's, and the table list
//! of `migrate-to`. They must agree column by column, or a copy loses data.

use std::collections::{BTreeMap, BTreeSet};

use webhook_console::db::Db;
use webhook_console::db::copy::copied_columns;

use crate::common::database;

/// Tables one backend has and the other does not, each for a reason of its own.
const ONE_BACKEND_ONLY: &[&str] = &[
    // SQLite's full-text index of search terms (FTS5) and its shadow tables; PostgreSQL
    // keeps the terms as an array beside a GIN index, in its own event_search.
    "event_search",
    "event_search_config",
    "event_search_content",
    "event_search_data",
    "event_search_docsize",
    "event_search_idx",
    // How far SQLite's background indexer has come; PostgreSQL indexes as it stores.
    "search_progress",
    "sqlite_sequence",
    // The heartbeats of the nodes sharing a PostgreSQL database; an SQLite file has one.
    "nodes",
];

/// Columns one backend spells out and the other has implicitly.
const IMPLICIT: &[(&str, &str)] = &[
    // PostgreSQL's key for a log table; SQLite's rowid is the same.
    ("sign_in_failures", "id"),
];

/// Tables both have that the copy leaves out: short-lived, or the database's own.
const NOT_COPIED: &[&str] = &[
    "_sqlx_migrations",
    "sessions",
    "sign_in_failures",
    "write_probe",
];

#[tokio::test]
async fn both_backends_and_the_copy_agree_on_every_table_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::open(&format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    ))
    .await
    .unwrap();
    let postgres = Db::open(&database::fresh_postgres().await).await.unwrap();
    let shared = |tables: BTreeMap<String, BTreeSet<String>>| {
        tables
            .into_iter()
            .filter(|(table, _)| !ONE_BACKEND_ONLY.contains(&table.as_str()))
            .collect::<BTreeMap<_, _>>()
    };
    let on_sqlite = shared(sqlite.columns().await.unwrap());
    let on_postgres = shared(postgres.columns().await.unwrap());

    // The same tables with the same columns on both backends,
    assert_eq!(
        on_sqlite.keys().collect::<Vec<_>>(),
        on_postgres.keys().collect::<Vec<_>>(),
        "tables"
    );
    let mut differences = Vec::new();
    for (table, columns) in &on_sqlite {
        let explicit = |columns: &BTreeSet<String>| {
            columns
                .iter()
                .filter(|column| !IMPLICIT.contains(&(table.as_str(), column.as_str())))
                .cloned()
                .collect::<BTreeSet<_>>()
        };
        let (sqlite, postgres) = (explicit(columns), explicit(&on_postgres[table]));
        if sqlite != postgres {
            differences.push(format!(
                "{table}: only SQLite {:?}, only PostgreSQL {:?}",
                sqlite.difference(&postgres).collect::<Vec<_>>(),
                postgres.difference(&sqlite).collect::<Vec<_>>()
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    // and the copy writes every column of every table it does not leave out on purpose.
    let copied: BTreeMap<String, BTreeSet<String>> = copied_columns()
        .into_iter()
        .map(|(table, columns)| {
            let columns = columns.into_iter().map(str::to_owned).collect();
            (table.to_owned(), columns)
        })
        .collect();
    let to_copy: BTreeMap<String, BTreeSet<String>> = on_sqlite
        .into_iter()
        .filter(|(table, _)| !NOT_COPIED.contains(&table.as_str()))
        .collect();
    assert_eq!(
        copied.keys().collect::<Vec<_>>(),
        to_copy.keys().collect::<Vec<_>>(),
        "tables the copy writes"
    );
    for (table, columns) in &to_copy {
        assert_eq!(
            &copied[table], columns,
            "columns the copy writes of {table}"
        );
    }
}
