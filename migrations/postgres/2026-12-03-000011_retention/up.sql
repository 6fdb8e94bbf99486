-- Retention (docs/privacy.md). When a message gave up, so that dead ones
-- are purged a while after; until now only the time of its last attempt
-- said so. Keep column names identical between migrations/sqlite and
-- migrations/postgres.
ALTER TABLE outbox ADD COLUMN given_up_at TIMESTAMP;
UPDATE outbox SET given_up_at = next_attempt_at WHERE state = 'dead';

-- Chores that one instance of several does now and then (the retention
-- purge): the last time one did it. Claimed with a conditional update.
CREATE TABLE maintenance (
    name        TEXT PRIMARY KEY,
    last_run_at TIMESTAMP NOT NULL
);

CREATE INDEX link_tokens_expires_idx ON link_tokens (expires_at);
