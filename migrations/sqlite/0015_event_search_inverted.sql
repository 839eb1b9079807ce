-- The search terms move to an inverted index built for bulk inserts. Kept in a B-tree keyed
-- by term hash, every batch of publishes dirtied pages all over the tree (each commit wrote
-- most of the index to the WAL: ingest fell from 15,500 to 6,600 events/s). FTS5 writes each
-- transaction's terms as one new segment and merges segments incrementally. Each event is
-- one row (rowid = event id) whose text is its terms as hex tokens; contentless, only rowids
-- per token (detail=none), and deletable for retention (contentless_delete). Terms stored
-- by the previous layout are not carried over: those events are found by id.
DROP TABLE event_search_terms;

CREATE VIRTUAL TABLE event_search USING fts5(
    terms, content = '', contentless_delete = 1, detail = 'none'
);
