-- On SQLite the search terms are indexed beside ingest, not inside its transactions: one
-- background pass a moment later writes many events' terms as one FTS5 segment (inline, each
-- small batch cost ingest a third of its throughput). This row says how far it got; events
-- after it are searched by scanning (they are at most a moment's worth). It starts at 0, so
-- events stored before the search existed are indexed too.
CREATE TABLE search_progress (
    only_row      INTEGER PRIMARY KEY CHECK (only_row = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO search_progress (only_row, last_event_id) VALUES (1, 0);
