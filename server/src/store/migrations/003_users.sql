-- 003: users, their sessions and their API tokens.
--
-- Choices:
-- * Secrets are never stored: a password as its argon2id PHC string, a
--   session id and an API token as the SHA-256 of their text. A stolen copy
--   of the file lets nobody sign in.
-- * Sessions and tokens belong to a user and go with them (ON DELETE
--   CASCADE; the store turns foreign keys on for every connection).
-- * Times are milliseconds since the Unix epoch, as in the other tables.
-- * A revoked token is kept (revoked_at set) so that its owner can see it
--   was revoked; an expired session is deleted when met.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    secret_hash  BLOB    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
