DROP TRIGGER lessons_changed ON lessons;
DROP TABLE lessons;
ALTER TABLE visits DROP COLUMN lessons_reminded_at;
ALTER TABLE visits DROP COLUMN completed_at;
