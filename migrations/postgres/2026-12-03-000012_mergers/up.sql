-- Municipal mergers (docs/import.md, "Mergers"): a retired organisation
-- names the one it went into. Keep column names identical between
-- migrations/sqlite and migrations/postgres.
ALTER TABLE organisations ADD COLUMN merged_into BIGINT REFERENCES organisations (id);

-- One visit per host (and per requester) per day guards bookings still to
-- come; held visits are history, and two municipalities that merge may
-- each have held one on the same day.
DROP INDEX visits_host_day_idx;
CREATE UNIQUE INDEX visits_host_day_idx ON visits (host_id, visit_date) WHERE state = 'accepted';
DROP INDEX visits_requester_day_idx;
CREATE UNIQUE INDEX visits_requester_day_idx ON visits (requester_id, visit_date) WHERE state = 'accepted';
