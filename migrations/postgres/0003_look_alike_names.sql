-- Names that look alike ("Prod", "Ρrod" with a Greek Rho, "Ｐrod" written full width) are
-- one name: the TR39 confusable skeleton of the lower-cased name, computed by the server
-- (SQL cannot), is unique. Rows from before are keyed at start; a row whose key another
-- already holds keeps NULL (NULLs never collide) until it is renamed.
ALTER TABLE webhooks ADD COLUMN name_look_alike_key TEXT;
CREATE UNIQUE INDEX webhooks_name_look_alike_key ON webhooks (name_look_alike_key);

ALTER TABLE api_tokens ADD COLUMN name_look_alike_key TEXT;
CREATE UNIQUE INDEX api_tokens_active_look_alike ON api_tokens (name_look_alike_key)
    WHERE revoked_at IS NULL;
