-- Webhooks (docs/webhooks.md): endpoints partners register, and a durable
-- delivery queue modelled on the outbox. A delivery is one event for one
-- endpoint; its `webhook_id` stays the same across retries, so receivers
-- can drop repeats. Every attempt is logged (status, latency, a snippet of
-- the answer). Secrets are stored as they are: signing needs them.
-- Keep column names identical between migrations/sqlite and migrations/postgres.
ALTER TABLE partner_clients ADD COLUMN contact_email TEXT;

CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id      BIGINT NOT NULL REFERENCES partner_clients (id),
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  TIMESTAMP,
    paused          BOOLEAN NOT NULL DEFAULT 0,
    held_by_admin   BOOLEAN NOT NULL DEFAULT 0,
    failing_since   TIMESTAMP,
    disabled_at     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_partner_idx ON webhook_endpoints (partner_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    webhook_id      TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    given_up_at     TIMESTAMP
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status       INTEGER,
    latency_ms   INTEGER NOT NULL,
    response     TEXT NOT NULL DEFAULT '',
    error        TEXT
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
