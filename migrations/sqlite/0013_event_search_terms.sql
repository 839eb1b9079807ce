-- What customers quote to find a delivery: each string and number inside an event's data
-- and context, and its Idempotency-Key, as a 63-bit hash of the lower-cased text (computed
-- by the server). A lookup is one probe of the primary key; the second index serves the
-- cascade when retention deletes the event.
CREATE TABLE event_search_terms (
    term_hash INTEGER NOT NULL,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (term_hash, event_id)
) WITHOUT ROWID;

CREATE INDEX event_search_terms_by_event ON event_search_terms (event_id);
