-- A counter that every change to the directory raises, so each instance
-- knows when its in-memory matching snapshot is stale (one row, read by key).
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

-- Triggers, not application code, so that no write path (import, API, an
-- operator's hand edit) can forget it. SQLite has only row triggers.
CREATE TRIGGER organisations_inserted AFTER INSERT ON organisations
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organisations_updated AFTER UPDATE ON organisations
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organisations_deleted AFTER DELETE ON organisations
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER expertise_inserted AFTER INSERT ON expertise
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER expertise_updated AFTER UPDATE ON expertise
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER expertise_deleted AFTER DELETE ON expertise
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER topics_inserted AFTER INSERT ON topics
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER topics_updated AFTER UPDATE ON topics
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER topics_deleted AFTER DELETE ON topics
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
