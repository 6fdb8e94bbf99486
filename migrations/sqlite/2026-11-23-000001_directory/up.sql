-- The organisation directory: organisations, topics and who knows what.
-- Keep column names identical to migrations/postgres (a test compares them).

CREATE TABLE organisations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    code             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('municipality', 'housing_corporation', 'province', 'water_board', 'other')),
    name             TEXT NOT NULL,
    -- name folded for search and ordering: lower case ASCII letters, digits, single spaces
    name_key         TEXT NOT NULL,
    province         TEXT,
    size             BIGINT NOT NULL CHECK (size >= 0),
    latitude         DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude        DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    contact_email    TEXT,
    language         TEXT NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'en')),
    monthly_capacity INTEGER NOT NULL DEFAULT 2 CHECK (monthly_capacity BETWEEN 0 AND 31),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX organisations_name_key_idx ON organisations (name_key, id);
CREATE INDEX organisations_kind_idx ON organisations (kind);
CREATE INDEX organisations_province_idx ON organisations (province);

CREATE TABLE topics (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slug           TEXT NOT NULL UNIQUE,
    name_nl        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    description_nl TEXT NOT NULL,
    description_en TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE expertise (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    topic_id        BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    summary         TEXT NOT NULL DEFAULT '',
    since_year      INTEGER CHECK (since_year BETWEEN 1900 AND 2200),
    willing_to_host BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, topic_id)
);
CREATE INDEX expertise_topic_idx ON expertise (topic_id, organisation_id);
