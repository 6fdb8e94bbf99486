CREATE TABLE link_tokens_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('invitation', 'lessons')),
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
INSERT INTO link_tokens_old SELECT id, token_hash, purpose, visit_id, organisation_id, expires_at, used_at, created_at FROM link_tokens WHERE purpose <> 'followup';
DROP TABLE link_tokens;
ALTER TABLE link_tokens_old RENAME TO link_tokens;
CREATE INDEX link_tokens_visit_idx ON link_tokens (visit_id, purpose);
DROP TABLE followups;
DROP TABLE lessons;
ALTER TABLE visits DROP COLUMN followed_up_at;
ALTER TABLE visits DROP COLUMN lessons_reminded_at;
ALTER TABLE visits DROP COLUMN completed_at;
