-- Single sign-on with OpenID Connect (docs/security.md, "Single sign-on").
-- Keep column names identical between migrations/sqlite and migrations/postgres.

-- Who an identity provider's subject is here: linked when an admin maps
-- it, or at the first sign-in by a verified address of a mapped domain.
CREATE TABLE sso_subjects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX sso_subjects_user_idx ON sso_subjects (user_id);

-- Which organisation an email domain belongs to, and through which
-- provider its people sign in (set by an admin).
CREATE TABLE sso_domains (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    domain           TEXT NOT NULL UNIQUE,
    organisation_id  BIGINT NOT NULL REFERENCES organisations (id),
    provider         TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);

-- Password login can be switched off per organisation once its SSO works.
ALTER TABLE organisations ADD COLUMN password_login BOOLEAN NOT NULL DEFAULT TRUE;
