-- Security events: who did what, when, from where. Append-only.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TIMESTAMP NOT NULL,
    -- 'user:<id>', 'anonymous' or 'cli'
    actor    TEXT NOT NULL,
    -- e.g. 'login.failed', 'organisation.updated'
    action   TEXT NOT NULL,
    address  TEXT,
    -- what the action was about, e.g. 'organisation:12'
    subject  TEXT,
    -- JSON object with what changed; never passwords, hashes or tokens
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
