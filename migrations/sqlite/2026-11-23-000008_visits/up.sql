-- Shadow visits and the single-use links emailed about them (docs/visits.md).
-- Keep column names identical between migrations/sqlite and migrations/postgres.
CREATE TABLE visits (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_id   BIGINT NOT NULL REFERENCES organisations (id),
    host_id        BIGINT NOT NULL REFERENCES organisations (id),
    topic_id       BIGINT NOT NULL REFERENCES topics (id),
    -- the coordinator who asked; confirmations go to them
    requested_by   BIGINT NOT NULL REFERENCES users (id),
    state          TEXT NOT NULL CHECK (state IN ('requested', 'accepted', 'declined', 'expired', 'cancelled', 'completed')),
    goal           TEXT NOT NULL,
    participants   INTEGER NOT NULL CHECK (participants BETWEEN 1 AND 5),
    -- JSON list of ISO dates, sorted: the 1 to 3 days the requester can come
    proposed_dates TEXT NOT NULL,
    -- the day the host chose (kept after a cancellation, for the record)
    visit_date     DATE,
    -- why it was declined or cancelled, and by whom ('requester', 'host', 'admin')
    reason         TEXT,
    cancelled_by   TEXT,
    -- iCalendar SEQUENCE of what was last sent to calendars
    sequence       INTEGER NOT NULL DEFAULT 0,
    expires_at     TIMESTAMP NOT NULL,
    nudged_at      TIMESTAMP,
    reminded_at    TIMESTAMP,
    answered_at    TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CHECK (requester_id <> host_id),
    CHECK (state NOT IN ('accepted', 'completed') OR visit_date IS NOT NULL)
);
-- One visit per day for a host and for a requester: the database enforces
-- it, whatever races the application loses.
CREATE UNIQUE INDEX visits_host_day_idx ON visits (host_id, visit_date) WHERE state IN ('accepted', 'completed');
CREATE UNIQUE INDEX visits_requester_day_idx ON visits (requester_id, visit_date) WHERE state IN ('accepted', 'completed');
CREATE INDEX visits_requester_idx ON visits (requester_id, state);
CREATE INDEX visits_host_idx ON visits (host_id, state);
CREATE INDEX visits_state_idx ON visits (state, expires_at);

-- Links in emails: only a SHA-256 of the random token is kept.
CREATE TABLE link_tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('invitation', 'lessons')),
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    -- whose link it is
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX link_tokens_visit_idx ON link_tokens (visit_id, purpose);

-- Visits feed matching (recent visits, booked days, declines): a change of
-- state or date makes the matching snapshot stale.
CREATE TRIGGER visits_inserted AFTER INSERT ON visits
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER visits_updated AFTER UPDATE OF state, visit_date ON visits
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
