-- Lessons learned after a visit (docs/lessons.md).
-- Keep column names identical between migrations/sqlite and migrations/postgres.
ALTER TABLE visits ADD COLUMN completed_at TIMESTAMP;
-- when the one reminder about the forms went out (or was found unneeded)
ALTER TABLE visits ADD COLUMN lessons_reminded_at TIMESTAMP;
-- visits completed before forms existed get none
UPDATE visits SET completed_at = updated_at, lessons_reminded_at = updated_at WHERE state = 'completed';

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
