-- An archived type stays for the deliveries that name it, but leaves pickers and is refused
-- at publish: how a catalog bounded to 1,000 types makes room.
ALTER TABLE event_types ADD COLUMN archived_at BIGINT;
