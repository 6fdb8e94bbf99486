-- People who log in: admins run the service, coordinators act for one organisation.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- stored lower case: addresses are unique regardless of case
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'coordinator')),
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE RESTRICT,
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    -- raised on logout: every token carrying an older version stops working
    token_version   INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    -- coordinators belong to exactly one organisation, admins to none
    CHECK ((role = 'coordinator') = (organisation_id IS NOT NULL))
);
CREATE INDEX users_organisation_idx ON users (organisation_id);
