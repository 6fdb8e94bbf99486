-- Word search in the knowledge base through an FTS5 index of the folded
-- text (docs/performance.md: a LIKE scan of 100,000 lessons took 280 ms for
-- a word in none of them). External content: the text stays in `lessons`;
-- triggers keep the index in step, also when erasure empties it.
CREATE VIRTUAL TABLE lessons_fts USING fts5(
    search_text,
    content = 'lessons',
    content_rowid = 'id',
    tokenize = 'unicode61',
    prefix = '2 3'
);
INSERT INTO lessons_fts (rowid, search_text) SELECT id, search_text FROM lessons;

CREATE TRIGGER lessons_fts_inserted AFTER INSERT ON lessons BEGIN
    INSERT INTO lessons_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER lessons_fts_deleted AFTER DELETE ON lessons BEGIN
    INSERT INTO lessons_fts (lessons_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER lessons_fts_updated AFTER UPDATE OF search_text ON lessons BEGIN
    INSERT INTO lessons_fts (lessons_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO lessons_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
