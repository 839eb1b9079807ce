-- Health at a glance: how many tries in a row failed (any cause, a 4xx too), since when, and
-- the last answer, kept by the outcome writer so lists show Failing without reading attempts.
ALTER TABLE webhooks ADD COLUMN failed_in_a_row BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN failed_in_a_row_since BIGINT;
ALTER TABLE webhooks ADD COLUMN last_failure TEXT;
