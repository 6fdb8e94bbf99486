ALTER TABLE visits DROP COLUMN closed_because;
