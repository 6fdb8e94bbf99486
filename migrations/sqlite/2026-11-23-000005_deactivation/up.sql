-- Admins deactivate organisations and retire topics instead of deleting
-- them: visits and lessons that refer to them keep their meaning.
ALTER TABLE organisations ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE topics ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
