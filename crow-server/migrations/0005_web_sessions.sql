-- Open web sessions, per organization: what a session summary needs, updated with each batch.
CREATE TABLE web_sessions (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    session_id      TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    pages           INTEGER NOT NULL DEFAULT 0,
    exit_url        TEXT,
    cart_items      INTEGER NOT NULL DEFAULT 0,
    purchased       INTEGER NOT NULL DEFAULT 0,
    recent          TEXT NOT NULL DEFAULT '[]',
    closed_at       INTEGER,
    PRIMARY KEY (organization_id, session_id)
) WITHOUT ROWID;
CREATE INDEX web_sessions_open ON web_sessions (last_at) WHERE closed_at IS NULL;
