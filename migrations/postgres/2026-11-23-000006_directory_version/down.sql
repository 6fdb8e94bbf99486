DROP TRIGGER topics_changed ON topics;
DROP TRIGGER expertise_changed ON expertise;
DROP TRIGGER organisations_changed ON organisations;
DROP FUNCTION bump_directory_version();
DROP TABLE directory_version;
