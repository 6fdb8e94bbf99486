-- The monthly digest (docs/digests.md). One row per person and month once
-- the digest of that month was made for them (sent or, with nothing new,
-- not): the first instance to insert it composes the email, so several
-- instances send one.
CREATE TABLE digests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    items      INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, month)
);
-- The best in class of each topic as they stood when a month's digests
-- were made (a JSON array of organisation ids): the next month's "new
-- best in class" are the ones not here.
CREATE TABLE digest_leaders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id   BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    hosts      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (topic_id, month)
);
-- What a month's digests read: lessons by when they came in, visits by
-- when they were accepted.
CREATE INDEX lessons_submitted_idx ON lessons (submitted_at);
CREATE INDEX visits_answered_idx ON visits (state, answered_at);
