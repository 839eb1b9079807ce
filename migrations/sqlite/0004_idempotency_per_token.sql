-- An Idempotency-Key belongs to the API token that sent it (another token's key is another
-- key), and remembers a fingerprint of the request it came with, so that reusing it for a
-- different event is refused instead of silently answered with the first.
ALTER TABLE events ADD COLUMN api_token_id INTEGER;
ALTER TABLE events ADD COLUMN idempotency_fingerprint TEXT;

DROP INDEX events_idempotency_key;
CREATE UNIQUE INDEX events_idempotency_key ON events (api_token_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
