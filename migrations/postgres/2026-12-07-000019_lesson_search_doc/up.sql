-- The words of each lesson stored as a tsvector (PostgreSQL only; SQLite
-- has its FTS5 index). When a word is common, the knowledge base walks
-- lessons newest first and tests each one: against a stored tsvector that
-- costs about 5 µs a lesson, parsing the text each time about 40 µs
-- (docs/performance.md). The search moves to a GIN index on the stored
-- column; the old expression index stays until a later release (expand,
-- then contract: the previous release still searches through it after a
-- rollback, docs/operations.md). Adding the column rewrites the table once
-- (about 15 s for 100,000 lessons on 2 cores).
ALTER TABLE lessons ADD COLUMN search_doc tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED;
CREATE INDEX lessons_search_doc ON lessons USING gin (search_doc);
