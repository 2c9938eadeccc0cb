"""The workspace database's second schema version: users, notes owned by a user, and the OAuth server's records.

One migration (`satchel/workspace/notes.py::MIGRATIONS` applies it once, in a transaction, to every workspace file):
every note saved before it belongs to the built-in local user (id 1, no password: nobody can sign in as it), which
is whose notes an anonymous workspace (`satchel serve --workspace-anonymous`) reads and writes. Idempotency keys
become per user, so one user's key can neither replay nor block another's note.

Secrets are never stored: authorization codes, access and refresh tokens and pending sign-in requests are kept as
the sha256 of the value handed out, passwords as salted scrypt hashes (`satchel/workspace/accounts.py`). A grant is
one sign-in of one user on one device (an OAuth client) for one resource; its tokens go when it is revoked.
"""

from __future__ import annotations

#: The built-in user that owns the notes of an anonymous workspace and every note saved before users existed.
LOCAL_USER_ID = 1
LOCAL_USER_NAME = "local"

ACCOUNTS_SCHEMA = f"""
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        created_at TEXT NOT NULL
    );
    INSERT INTO users (id, name, password_hash, created_at)
    VALUES ({LOCAL_USER_ID}, '{LOCAL_USER_NAME}', NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    ALTER TABLE notes ADD COLUMN user_id INTEGER NOT NULL DEFAULT {LOCAL_USER_ID};
    CREATE INDEX notes_user ON notes (user_id, id);
    CREATE INDEX notes_user_content ON notes (user_id, content_sha256);
    CREATE TABLE user_idempotency_keys (
        user_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        note_id INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    INSERT INTO user_idempotency_keys (user_id, key, note_id, content_sha256, created_at)
    SELECT {LOCAL_USER_ID}, key, note_id, content_sha256, created_at FROM idempotency_keys;
    DROP TABLE idempotency_keys;
    ALTER TABLE user_idempotency_keys RENAME TO idempotency_keys;
    CREATE TABLE oauth_clients (
        client_id TEXT PRIMARY KEY,
        client_name TEXT,
        information TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE oauth_requests (
        id_sha256 TEXT PRIMARY KEY,
        csrf_sha256 TEXT NOT NULL,
        client_id TEXT NOT NULL,
        params TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE oauth_codes (
        code_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL,
        client_id TEXT NOT NULL,
        details TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE oauth_grants (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        client_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE TABLE oauth_tokens (
        token_sha256 TEXT PRIMARY KEY,
        grant_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
"""
