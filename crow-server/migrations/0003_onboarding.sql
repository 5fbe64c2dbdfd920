-- Onboarding: one resumable flow per user (organization → profile → sources → products → billing).
CREATE TABLE onboarding (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    organization_id BLOB,
    current_step    INTEGER NOT NULL DEFAULT 1,
    completed_steps TEXT NOT NULL DEFAULT '[]',
    product_source  TEXT,
    product_url     TEXT,
    sources         TEXT NOT NULL DEFAULT '[]',
    plan            TEXT,
    status          TEXT NOT NULL DEFAULT 'in_progress',
    created_at      INTEGER NOT NULL,
    completed_at    INTEGER
);
