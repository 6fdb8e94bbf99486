-- Where a mailing list's message may be unsubscribed from (the monthly
-- digest): sent as `List-Unsubscribe` with `List-Unsubscribe-Post:
-- List-Unsubscribe=One-Click` (RFC 8058). Holds a single-use link, so it
-- is cleared with the body once the message is sent.
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;
