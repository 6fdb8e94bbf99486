DROP INDEX lessons_search_doc;
ALTER TABLE lessons DROP COLUMN search_doc;
