-- Sessions a person controls (docs/security.md, "Sessions"): every login
-- (a browser session or an API token) is a row, so its owner can list and
-- end it, and a browser session can end after a while without use. The
-- signed token carries the row's random `sid`, which alone opens nothing;
-- pages and the API name a session by its `id`.
-- Keep column names identical between migrations/sqlite and migrations/postgres.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sid          TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP,
    address      TEXT,
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
