ALTER TABLE topics DROP COLUMN active;
ALTER TABLE organisations DROP COLUMN active;
