-- The last webhook id handed out. SQLite reuses the highest rowid once its row is deleted,
-- so an old link or log line would open another webhook; ids come from here instead.
CREATE TABLE webhook_ids (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    last_id  INTEGER NOT NULL
);

INSERT INTO webhook_ids (only_row, last_id)
SELECT 1, max(COALESCE((SELECT max(id) FROM webhooks), 0),
              COALESCE((SELECT max(webhook_id) FROM deliveries), 0));
