-- The statistics sum a period's lessons per topic (docs/performance.md,
-- "Insight"): read from this index alone, not from the wide lessons rows.
CREATE INDEX lessons_period_idx ON lessons (visit_date, topic_id, hours_saved);
