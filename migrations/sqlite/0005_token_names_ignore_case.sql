-- Active token names are unique whatever their case, like webhook names: "Shop" and "shop"
-- cannot both be active. Names are lower-cased by the server (any script) when stored;
-- SQLite's lower() covers ASCII, enough for the names already here. Should two active
-- tokens already differ only in case, the later keeps its name but is told apart here.
ALTER TABLE api_tokens ADD COLUMN name_folded TEXT;
UPDATE api_tokens SET name_folded = lower(name);
UPDATE api_tokens SET name_folded = name_folded || ' #' || id
 WHERE revoked_at IS NULL
   AND EXISTS (SELECT 1 FROM api_tokens earlier
                WHERE earlier.revoked_at IS NULL
                  AND earlier.name_folded = api_tokens.name_folded
                  AND earlier.id < api_tokens.id);

DROP INDEX api_tokens_active_name;
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name_folded) WHERE revoked_at IS NULL;
