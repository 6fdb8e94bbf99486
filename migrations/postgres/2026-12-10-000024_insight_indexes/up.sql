-- A topic's learning network reads its held visits (docs/insight.md).
CREATE INDEX visits_topic_idx ON visits (topic_id, state, visit_date);
