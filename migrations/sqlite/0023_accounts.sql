-- Accounts (SPEC §8): each customer of the host application has its own webhooks, events
-- (and so deliveries and attempts) and audit entries. `default` holds everything made
-- before accounts, and everything made without naming one. Keys never change, so rows name
-- their account by its key.
CREATE TABLE accounts (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO accounts (key, name, created_at, updated_at)
    VALUES ('default', 'Default', CAST(strftime('%s', 'now') AS INTEGER) * 1000,
            CAST(strftime('%s', 'now') AS INTEGER) * 1000);

ALTER TABLE webhooks ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
ALTER TABLE events ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
ALTER TABLE audit_log ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
-- People and tokens of one account; NULL: the host's staff, who reach every account.
ALTER TABLE users ADD COLUMN account TEXT REFERENCES accounts (key);
ALTER TABLE api_tokens ADD COLUMN account TEXT REFERENCES accounts (key);

-- Names are unique within an account.
DROP INDEX webhooks_name_folded;
CREATE UNIQUE INDEX webhooks_name_folded ON webhooks (account, name_folded);
DROP INDEX webhooks_name_look_alike_key;
CREATE UNIQUE INDEX webhooks_name_look_alike_key ON webhooks (account, name_look_alike_key);
CREATE INDEX webhooks_by_account ON webhooks (account, id);
-- An idempotency key is the token's within one account.
DROP INDEX events_idempotency_key;
CREATE UNIQUE INDEX events_idempotency_key ON events (api_token_id, account, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
