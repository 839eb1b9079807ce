-- Each try keeps the signature it was sent with and an excerpt of the answer's headers, so
-- the delivery page shows the exact request and response.
ALTER TABLE attempts ADD COLUMN signature TEXT;
ALTER TABLE attempts ADD COLUMN response_headers TEXT;
-- Why the system switched a webhook off (auto-disable, a receiver's 410), shown beside its
-- status until a person changes the status again.
ALTER TABLE webhooks ADD COLUMN status_reason TEXT;
-- A webhook's deliveries by outcome: the log's outcome filter and the list's pending and
-- failed counts read this index only.
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status, id DESC);
