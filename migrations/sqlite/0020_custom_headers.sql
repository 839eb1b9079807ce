-- A webhook's own headers, sent with every delivery: a JSON list of {"name", "value"}, or
-- {"name", "sealed"} for a secret value, sealed like the API key.
ALTER TABLE webhooks ADD COLUMN custom_headers TEXT NOT NULL DEFAULT '[]';
