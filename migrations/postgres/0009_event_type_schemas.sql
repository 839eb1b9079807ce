-- An event type's JSON Schema for its `data` (draft 2020-12), and its version: 0 while it
-- has none, one more at each change.
ALTER TABLE event_types ADD COLUMN data_schema TEXT;
ALTER TABLE event_types ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;
