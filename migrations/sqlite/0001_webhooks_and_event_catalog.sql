-- Timestamps are Unix milliseconds (UTC): compact, indexable, and ordered.

CREATE TABLE event_types (
    key          TEXT PRIMARY KEY NOT NULL,
    group_name   TEXT NOT NULL,
    description  TEXT NOT NULL,
    -- The `data` a receiver gets in the example body, as JSON text.
    example_data TEXT NOT NULL CHECK (json_valid(example_data)),
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhooks (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    -- Lower-cased name: uniqueness and sorting ignore case, for any script.
    name_folded       TEXT NOT NULL,
    url               TEXT NOT NULL,
    notification_type TEXT NOT NULL CHECK (notification_type IN ('rest')),
    -- 1: subscribed to every event type, including types registered later.
    all_events        INTEGER NOT NULL CHECK (all_events IN (0, 1)),
    api_key           TEXT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'auto_disabled')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- Kept on the row by the delivery engine so the list needs no scan of deliveries.
    last_delivery_at      INTEGER,
    last_delivery_outcome TEXT CHECK (last_delivery_outcome IN ('succeeded', 'failed'))
);

CREATE UNIQUE INDEX webhooks_name_folded ON webhooks (name_folded);
CREATE INDEX webhooks_status_name ON webhooks (status, name_folded);

CREATE TABLE webhook_events (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL REFERENCES event_types (key),
    PRIMARY KEY (webhook_id, event_type)
) WITHOUT ROWID;

CREATE INDEX webhook_events_by_type ON webhook_events (event_type, webhook_id);

-- Delivery outcomes per webhook and hour, maintained by the delivery engine; the list's
-- 24-hour success rate and the detail chart read at most 24 rows per webhook.
CREATE TABLE webhook_hourly_stats (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    hour_start INTEGER NOT NULL,
    succeeded  INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, hour_start)
) WITHOUT ROWID;

INSERT INTO event_types (key, group_name, description, example_data, created_at) VALUES
    ('user.signed_up', 'User', 'A user signed up',
     '{"user":{"id":"usr_1042","email":"ada@example.com","name":"Ada Lovelace"}}', 0),
    ('user.updated', 'User', 'A user''s profile changed',
     '{"user":{"id":"usr_1042","email":"ada@example.com","name":"Ada King"},"changed":["name"]}', 0),
    ('user.deleted', 'User', 'A user was deleted',
     '{"user":{"id":"usr_1042"}}', 0),
    ('order.purchased', 'Purchase', 'A purchase was completed',
     '{"order":{"id":"ord_7731","customer_id":"usr_1042","total":"49.90","currency":"EUR","items":[{"sku":"BOOK-001","quantity":1}]}}', 0),
    ('order.refunded', 'Purchase', 'A purchase was refunded',
     '{"order":{"id":"ord_7731","refund":{"amount":"49.90","currency":"EUR","reason":"requested_by_customer"}}}', 0),
    ('record.created', 'Data', 'A record was created',
     '{"record":{"id":"rec_311","type":"invoice","fields":{"number":"2026-0042"}}}', 0),
    ('record.updated', 'Data', 'A record changed',
     '{"record":{"id":"rec_311","type":"invoice","fields":{"number":"2026-0042","paid":true}},"changed":["paid"]}', 0),
    ('record.deleted', 'Data', 'A record was deleted',
     '{"record":{"id":"rec_311","type":"invoice"}}', 0),
    ('webhook.test', 'System', 'Sent by "Send test event" to one webhook only',
     '{"message":"This is a test event from Webhook Console."}', 0);
