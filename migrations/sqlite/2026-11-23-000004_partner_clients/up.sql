-- Programs of umbrella bodies and researchers: read-only API access by scope.
CREATE TABLE partner_clients (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- argon2id hash of the secret; the secret itself is shown once and never stored
    secret_hash TEXT NOT NULL,
    -- space-separated, e.g. 'organisations:read lessons:read'
    scopes      TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
