DROP TRIGGER lessons_fts_updated;
DROP TRIGGER lessons_fts_deleted;
DROP TRIGGER lessons_fts_inserted;
DROP TABLE lessons_fts;
