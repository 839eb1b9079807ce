CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- Lower-cased, so one address cannot hold two accounts.
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support')),
    -- Argon2id in PHC string format.
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Server-side session state for actix-session. The id is the SHA-256 of the cookie's
-- session key, so a copy of the database does not hand out live sessions.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins, for throttling; rows older than the window are pruned.
CREATE TABLE sign_in_failures (
    email  TEXT NOT NULL,
    client TEXT NOT NULL,
    at     INTEGER NOT NULL
);

CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at);
CREATE INDEX sign_in_failures_by_client ON sign_in_failures (client, at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    -- Who did it: a user's email, "token:<name>" for the API, or "system".
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target      TEXT NOT NULL,
    summary     TEXT NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);

-- The audit log is append-only: the storage layer offers no way to change it, and
-- the database refuses to.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
