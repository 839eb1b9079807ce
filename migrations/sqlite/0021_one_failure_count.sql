-- A webhook's health has one count of tries failed in a row (consecutive_failures), kept by
-- the engine's circuit: the separate streak shown to people goes.
UPDATE webhooks SET consecutive_failures = MAX(consecutive_failures, failed_in_a_row);
ALTER TABLE webhooks DROP COLUMN failed_in_a_row;
ALTER TABLE webhooks DROP COLUMN failed_in_a_row_since;
ALTER TABLE webhooks DROP COLUMN last_failure;
