DROP TABLE topic_follows;
