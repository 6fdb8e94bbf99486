ALTER TABLE link_tokens DROP CONSTRAINT link_tokens_purpose_check;
DELETE FROM link_tokens WHERE purpose = 'followup';
ALTER TABLE link_tokens ADD CONSTRAINT link_tokens_purpose_check
    CHECK (purpose IN ('invitation', 'lessons'));
DROP TABLE followups;
DROP TRIGGER lessons_changed ON lessons;
DROP TABLE lessons;
ALTER TABLE visits DROP COLUMN followed_up_at;
ALTER TABLE visits DROP COLUMN lessons_reminded_at;
ALTER TABLE visits DROP COLUMN completed_at;
