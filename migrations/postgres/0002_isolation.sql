-- Isolation (SPEC §5): each webhook's receiver health, pause and pace, kept on its row so
-- that every node claims alike and the pages show it.
-- An optional cap on deliveries sent per second to this webhook.
ALTER TABLE webhooks ADD COLUMN max_per_second BIGINT;
-- Failures in a row by the receiver (timeouts, connection errors, 5xx); a success resets.
ALTER TABLE webhooks ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
-- Set while the webhook is Failing: its deliveries wait and one probe at a time is sent.
ALTER TABLE webhooks ADD COLUMN failing_since BIGINT;
ALTER TABLE webhooks ADD COLUMN failing_reason TEXT;
-- The last failure's stable code (timeout, connect, http_status ...), for /metrics.
ALTER TABLE webhooks ADD COLUMN failing_code TEXT;
ALTER TABLE webhooks ADD COLUMN next_probe_at BIGINT;
-- A receiver's Retry-After on 429 or 503: nothing is sent to it before this.
ALTER TABLE webhooks ADD COLUMN paused_until BIGINT;
-- Claimed by a sender (fresh from ingest or by a claim) until next_attempt_at, the lease.
ALTER TABLE deliveries ADD COLUMN leased BOOLEAN NOT NULL DEFAULT false;
-- Redeliver pressed while a send was under way: queued again once that send is recorded.
ALTER TABLE deliveries ADD COLUMN redeliver_requested_at BIGINT;
-- Claims look at each webhook's oldest due deliveries, so one webhook's backlog of millions
-- is never walked to find another's retry.
CREATE INDEX deliveries_pending_by_webhook ON deliveries (webhook_id, next_attempt_at)
    WHERE status = 'pending';
-- It replaces the queue's index in due order, which no query walks any more.
DROP INDEX deliveries_due;
