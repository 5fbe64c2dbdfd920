-- Events web ingest could not accept, kept per organization instead of being dropped.
CREATE TABLE rejected_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    raw             TEXT NOT NULL,
    reason          TEXT NOT NULL,
    received_at     INTEGER NOT NULL
);
CREATE INDEX rejected_events_by_org ON rejected_events (organization_id, received_at);
