-- A rotated signing secret keeps signing beside the new one for a while, so receivers can
-- switch without missing a delivery. Sealed like the current one.
ALTER TABLE webhooks ADD COLUMN previous_signing_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;
