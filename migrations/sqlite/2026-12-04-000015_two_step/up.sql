-- Two-step verification (docs/security.md, "Two-step verification"): a
-- TOTP secret (RFC 6238) per account that turned it on, the one being set
-- up, the last time step used (a code works once), and recovery codes
-- stored as SHA-256 hashes, each usable once.
-- Keep column names identical between migrations/sqlite and migrations/postgres.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);
