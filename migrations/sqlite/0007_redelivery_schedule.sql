-- Redelivering starts a fresh retry schedule while the attempt count keeps the history:
-- the schedule counts the tries made since this many.
ALTER TABLE deliveries ADD COLUMN schedule_start INTEGER NOT NULL DEFAULT 0;
