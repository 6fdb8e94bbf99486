ALTER TABLE organisations DROP COLUMN password_login;
DROP TABLE sso_domains;
DROP TABLE sso_subjects;
