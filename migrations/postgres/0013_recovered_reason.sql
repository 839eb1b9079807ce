-- webhook.recovered says how the webhook left Failing: a delivery succeeded (a probe or a
-- test event), an admin changed its URL (another receiver), or an admin switched it off.
UPDATE event_types SET
    description = 'A failing webhook is no longer Failing: a delivery succeeded, its URL changed, or it was switched off',
    example_data = '{"webhook":{"id":12,"name":"Orders to ERP"},"failing_since":"2026-12-06T09:30:00.000Z","recovered_at":"2026-12-06T09:42:10.000Z","reason":"delivery_succeeded"}',
    data_schema = '{"type":"object","required":["webhook","failing_since","recovered_at","reason"],"additionalProperties":false,"properties":{"webhook":{"type":"object","description":"The webhook the event is about","required":["id","name"],"additionalProperties":false,"properties":{"id":{"type":"integer","minimum":1},"name":{"type":"string","minLength":1}}},"failing_since":{"type":"string","format":"date-time","description":"When it started failing"},"recovered_at":{"type":"string","format":"date-time","description":"When it stopped failing"},"reason":{"type":"string","enum":["delivery_succeeded","url_changed","switched_off"],"description":"How it stopped failing: a delivery (a probe or a test event) succeeded, an admin changed its URL, or an admin switched it off"}}}',
    schema_version = schema_version + 1
WHERE key = 'webhook.recovered';
