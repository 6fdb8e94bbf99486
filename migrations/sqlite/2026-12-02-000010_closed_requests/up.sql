-- Requests Meeloop closed itself (docs/visits.md, "Requests nobody can
-- answer"): the visit is 'cancelled' with cancelled_by 'meeloop', and this
-- says why. Keep column names identical between migrations/sqlite and
-- migrations/postgres.
ALTER TABLE visits ADD COLUMN closed_because TEXT
    CHECK (closed_because IN ('invitation_undeliverable', 'no_days_left'));
