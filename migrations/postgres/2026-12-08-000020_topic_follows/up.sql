-- Topics a person follows: the monthly digest brings them what is new on
-- those topics (docs/digests.md). A preference, not history: erasing the
-- account removes its rows.
CREATE TABLE topic_follows (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id   BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX topic_follows_topic_idx ON topic_follows (topic_id, user_id);
