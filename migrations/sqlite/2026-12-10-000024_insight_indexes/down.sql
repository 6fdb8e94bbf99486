DROP INDEX lessons_organisation_idx;
DROP INDEX visits_topic_idx;
