-- One-click unsubscribe links of the monthly digest: a random token in the
-- URL, only its SHA-256 here; used once (docs/digests.md).
CREATE TABLE unsubscribe_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX unsubscribe_tokens_user_idx ON unsubscribe_tokens (user_id);
