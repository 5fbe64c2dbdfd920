-- Auth service schema: users, credential accounts, sessions, auth organizations, members,
-- invitations, API keys and JWT signing keys. Secrets are never stored in the clear: session
-- tokens and API keys as SHA-256 digests, passwords as argon2id PHC strings, JWT private keys
-- encrypted with a key derived from the auth secret.

CREATE TABLE users (
    id             BLOB PRIMARY KEY,
    name           TEXT NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    image          TEXT,
    is_anonymous   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE accounts (
    id            BLOB PRIMARY KEY,
    account_id    TEXT NOT NULL,
    provider_id   TEXT NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT,
    scope         TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (provider_id, account_id)
);

CREATE TABLE sessions (
    id                     BLOB PRIMARY KEY,
    token_hash             BLOB NOT NULL UNIQUE,
    user_id                BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at             INTEGER NOT NULL,
    active_organization_id BLOB,
    ip_address             TEXT,
    user_agent             TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE auth_organizations (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    logo       TEXT,
    metadata   TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE members (
    id              BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES auth_organizations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE invitations (
    id              BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES auth_organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    inviter_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL
);
CREATE INDEX invitations_by_org ON invitations (organization_id);

CREATE TABLE api_keys (
    id                     BLOB PRIMARY KEY,
    key_hash               BLOB NOT NULL UNIQUE,
    name                   TEXT,
    start                  TEXT,
    prefix                 TEXT,
    kind                   TEXT NOT NULL,
    user_id                BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id        BLOB REFERENCES auth_organizations (id) ON DELETE CASCADE,
    enabled                INTEGER NOT NULL DEFAULT 1,
    rate_limit_enabled     INTEGER NOT NULL DEFAULT 0,
    rate_limit_time_window INTEGER,
    rate_limit_max         INTEGER,
    window_started_at      INTEGER,
    window_count           INTEGER NOT NULL DEFAULT 0,
    request_count          INTEGER NOT NULL DEFAULT 0,
    remaining              INTEGER,
    expires_at             INTEGER,
    permissions            TEXT,
    metadata               TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX api_keys_by_user ON api_keys (user_id);

CREATE TABLE jwks (
    id          BLOB PRIMARY KEY,
    public_key  TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);
