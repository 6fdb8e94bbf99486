DROP INDEX visits_topic_idx;
