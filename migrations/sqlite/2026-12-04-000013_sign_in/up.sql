-- Sign-in links (docs/security.md, "Invitations and password resets"): an
-- invitation to choose a first password, or a reset of a forgotten one.
-- Only a SHA-256 of the random token is kept; a link is used once.
-- Keep column names identical between migrations/sqlite and migrations/postgres.
CREATE TABLE account_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX account_links_user_idx ON account_links (user_id);
CREATE INDEX account_links_expires_idx ON account_links (expires_at);
