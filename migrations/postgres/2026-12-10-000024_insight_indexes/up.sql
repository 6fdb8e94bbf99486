-- A topic's learning network reads its held visits, an organisation's
-- learning history its lessons (docs/insight.md).
CREATE INDEX visits_topic_idx ON visits (topic_id, state, visit_date);
CREATE INDEX lessons_organisation_idx ON lessons (organisation_id, publish);
