-- Word search in the knowledge base through PostgreSQL's full-text search
-- on the folded text (docs/performance.md: a LIKE scan of 100,000 lessons
-- took about 300 ms for a word in none of them). The 'simple'
-- configuration: no stemming or stop words, the words as folded (accents
-- and case removed already).
CREATE INDEX lessons_search ON lessons USING gin (to_tsvector('simple', search_text));
