-- Lessons learned after a visit (docs/lessons.md).
-- Keep column names identical between migrations/sqlite and migrations/postgres.
ALTER TABLE visits ADD COLUMN completed_at TIMESTAMP;
-- when the one reminder about the forms went out (or was found unneeded)
ALTER TABLE visits ADD COLUMN lessons_reminded_at TIMESTAMP;
-- when the three-month follow-up to the requester went out
ALTER TABLE visits ADD COLUMN followed_up_at TIMESTAMP;
-- visits completed before forms existed get none
UPDATE visits SET completed_at = updated_at, lessons_reminded_at = updated_at, followed_up_at = updated_at WHERE state = 'completed';

CREATE TABLE lessons (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    -- which side of the visit wrote it: one lesson per side
    side            TEXT NOT NULL CHECK (side IN ('requester', 'host')),
    -- the author's organisation, and the visit's host, topic and day, for
    -- the knowledge base and reputation without joins
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    host_id         BIGINT NOT NULL REFERENCES organisations (id),
    topic_id        BIGINT NOT NULL REFERENCES topics (id),
    visit_date      DATE NOT NULL,
    -- the coordinator who sent it over the API; NULL when sent from the emailed link
    author_id       BIGINT REFERENCES users (id),
    situation       TEXT NOT NULL,
    strengths       TEXT NOT NULL,
    mistakes        TEXT NOT NULL,
    recommendations TEXT NOT NULL,
    hours_saved     INTEGER NOT NULL CHECK (hours_saved BETWEEN 0 AND 10000),
    rating          SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    recommend       BOOLEAN,
    publish         TEXT NOT NULL CHECK (publish IN ('no', 'named', 'pseudonymous')),
    -- the texts folded (lower case, no accents) for search
    search_text     TEXT NOT NULL,
    submitted_at    TIMESTAMP NOT NULL,
    UNIQUE (visit_id, side)
);
CREATE INDEX lessons_host_topic_idx ON lessons (host_id, topic_id);
CREATE INDEX lessons_topic_idx ON lessons (topic_id, publish);

-- Lessons feed matching (reputation, published lessons): a new one makes
-- the matching snapshot stale.
CREATE TRIGGER lessons_inserted AFTER INSERT ON lessons
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER lessons_updated AFTER UPDATE ON lessons
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

-- Three months after the visit: did the requester apply it, what changed?
CREATE TABLE followups (
    visit_id    BIGINT PRIMARY KEY REFERENCES visits (id),
    applied     TEXT NOT NULL CHECK (applied IN ('yes', 'partly', 'no')),
    changes     TEXT NOT NULL,
    answered_at TIMESTAMP NOT NULL
);

-- Emailed links may now also lead to the follow-up (SQLite cannot change a
-- CHECK in place: the table is rebuilt).
CREATE TABLE link_tokens_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('invitation', 'lessons', 'followup')),
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
INSERT INTO link_tokens_new SELECT id, token_hash, purpose, visit_id, organisation_id, expires_at, used_at, created_at FROM link_tokens;
DROP TABLE link_tokens;
ALTER TABLE link_tokens_new RENAME TO link_tokens;
CREATE INDEX link_tokens_visit_idx ON link_tokens (visit_id, purpose);
