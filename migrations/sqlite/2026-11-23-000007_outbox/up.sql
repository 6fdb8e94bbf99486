-- Outgoing email, queued in the same transaction as the change that causes
-- it and delivered by a worker afterwards (docs/mail.md).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- e.g. 'invitation:42': the same email is never queued twice
    idempotency_key TEXT NOT NULL UNIQUE,
    recipient       TEXT NOT NULL,
    language        TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    template        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- JSON list of {filename, contentType, base64}
    attachments     TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- while 'sending': after this, a worker presumed dead, so others may take it
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (state, next_attempt_at);
