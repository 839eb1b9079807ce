-- The processes delivering from this database, by heartbeat. With SQLite there is one; the
-- table exists so both backends keep the same schema and code.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
