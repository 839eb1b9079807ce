-- What customers quote to find a delivery: each string and number inside an event's data
-- and context, and its Idempotency-Key, as a 63-bit hash of the lower-cased text (computed
-- by the server). A lookup is one probe of the primary key; the second index serves the
-- cascade when retention deletes the event.
CREATE TABLE event_search_terms (
    term_hash BIGINT NOT NULL,
    event_id  BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (term_hash, event_id)
);

CREATE INDEX event_search_terms_by_event ON event_search_terms (event_id);
