DROP INDEX link_tokens_expires_idx;
DROP TABLE maintenance;
ALTER TABLE outbox DROP COLUMN given_up_at;
