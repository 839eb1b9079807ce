CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    -- SHA-256 of the token: tokens carry 256 random bits, so a fast hash suffices.
    token_hash   TEXT NOT NULL UNIQUE,
    -- The token's first characters, so people can tell tokens apart.
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Signs deliveries (Standard Webhooks); sealed like API keys.
ALTER TABLE webhooks ADD COLUMN signing_secret TEXT;

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    event_type      TEXT NOT NULL REFERENCES event_types (key),
    event_time      INTEGER NOT NULL,
    current_context TEXT NOT NULL,
    data            TEXT NOT NULL,
    -- A publisher's retry with the same key within 24 hours gets this event back.
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL
);

CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- One event to one webhook. Its id is the `webhook-id` header, the same on every retry.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    created_at       INTEGER NOT NULL
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id DESC);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

-- One HTTP try of a delivery, as the delivery log shows it.
CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    delivery_id   INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at  INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    response_body TEXT
);

CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
