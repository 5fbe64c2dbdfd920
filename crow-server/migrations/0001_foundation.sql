-- Foundation schema: tenants, interactions and the durable queue.
-- Ids are UUID v7 stored as 16-byte BLOBs (time-ordered, so inserts append to the B-tree).
-- Times are INTEGER milliseconds since the Unix epoch, UTC.

CREATE TABLE organizations (
    id              BLOB PRIMARY KEY,
    auth_id         TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    slug            TEXT NOT NULL UNIQUE,
    logo            TEXT,
    metadata        TEXT,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    ai_context      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE interactions (
    id              BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    session_id      TEXT,
    products        TEXT NOT NULL,
    confidence      REAL,
    tags            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    analysis        TEXT
);

-- Every listing is per tenant, newest first; the id breaks ties for stable cursors.
CREATE INDEX interactions_by_org_time ON interactions (organization_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_by_org_session ON interactions (organization_id, session_id, occurred_at)
    WHERE session_id IS NOT NULL;

-- The in-process durable queue. A row is one message until acked (deleted) or dead-lettered
-- (dead_at set). `lease` increments at every delivery; receipts carry it, so an ack from a
-- consumer whose lease expired (and whose message went to another consumer) is refused.
CREATE TABLE queue_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    payload      BLOB NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease        INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    last_error   TEXT,
    dead_at      INTEGER
);

CREATE INDEX queue_ready ON queue_messages (topic, available_at, id) WHERE dead_at IS NULL;
CREATE INDEX queue_dead ON queue_messages (topic, dead_at) WHERE dead_at IS NOT NULL;
