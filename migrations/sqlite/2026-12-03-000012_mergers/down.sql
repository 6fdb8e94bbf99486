DROP INDEX visits_requester_day_idx;
CREATE UNIQUE INDEX visits_requester_day_idx ON visits (requester_id, visit_date) WHERE state IN ('accepted', 'completed');
DROP INDEX visits_host_day_idx;
CREATE UNIQUE INDEX visits_host_day_idx ON visits (host_id, visit_date) WHERE state IN ('accepted', 'completed');
ALTER TABLE organisations DROP COLUMN merged_into;
