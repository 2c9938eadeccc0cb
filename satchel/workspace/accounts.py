"""The workspace's users: who may sign in, with passwords stored only as salted scrypt hashes.

`satchel workspace users add|list|remove` manage them (satchel/workspace/command.py); the sign-in page checks a
password here (satchel/workspace/sign_in.py). The built-in local user (id 1) owns the notes of an anonymous
workspace and has no password, so nobody signs in as it.

A password check costs one scrypt derivation (n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds), also for a
name that does not exist, so a wrong name and a wrong password take the same time and say the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from satchel.workspace.accounts_schema import LOCAL_USER_ID, LOCAL_USER_NAME
from satchel.workspace.notes import WorkspaceFile, _now, _transaction

#: A user name: what a person types on the sign-in page.
USER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32
#: Checked against when the name is unknown, so that case costs one derivation too.
_DUMMY_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'A' * 22}${'A' * 43}"


class AccountError(ValueError):
    """A user request that cannot be done; the message says what to change."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created_at: str
    notes: int
    devices: int


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64url, no padding) of `password` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    derived = _derive(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` (a `hash_password` value) was made from; False for anything else."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, _unb64(expected))
    except ValueError:
        return False


def check_user_name(name: str) -> str:
    if not USER_NAME_PATTERN.match(name):
        raise AccountError(
            f"{name[:70]!r} is not a user name: 1 to 64 letters, digits and . _ @ -, starting with a letter or digit"
        )
    if name == LOCAL_USER_NAME:
        raise AccountError(
            f"{LOCAL_USER_NAME!r} is the built-in user of an anonymous workspace: choose another name"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must be at most {MAX_PASSWORD} characters")
    return password


class AccountStore(WorkspaceFile):
    """The users of one workspace file. Safe to share between threads."""

    def add(self, name: str, password: str) -> int:
        """Add a user; their id. AccountError for a bad name or password, or a name already taken."""
        hashed = hash_password(check_password(password))
        try:
            with self._lock, _transaction(self._db):
                cursor = self._db.execute(
                    "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (check_user_name(name), hashed, _now()),
                )
        except sqlite3.IntegrityError:
            raise AccountError(
                f"there is already a user {name!r}: remove it first, or choose another name"
            ) from None
        return int(cursor.lastrowid or 0)

    def list(self) -> list[User]:
        """Every user who can sign in, by name, with how many notes and signed-in devices each has."""
        with self._lock:
            rows = self._db.execute(
                "SELECT u.id, u.name, u.created_at,"
                " (SELECT COUNT(*) FROM notes n WHERE n.user_id = u.id) AS notes,"
                " (SELECT COUNT(*) FROM oauth_grants g WHERE g.user_id = u.id AND g.revoked_at IS NULL) AS devices"
                " FROM users u WHERE u.id != ? ORDER BY u.name",
                (LOCAL_USER_ID,),
            ).fetchall()
        return [User(r["id"], r["name"], r["created_at"], r["notes"], r["devices"]) for r in rows]

    def remove(self, name: str, *, delete_notes: bool = False) -> int:
        """Remove a user and sign out every device of theirs; with `delete_notes`, their notes go too (else a user
        who has notes is refused, so nothing saved is lost by accident). Returns how many notes were deleted."""
        with self._lock, _transaction(self._db):
            row = self._db.execute(
                "SELECT id FROM users WHERE name = ? AND id != ?", (name, LOCAL_USER_ID)
            ).fetchone()
            if row is None:
                raise AccountError(f"there is no user {name!r} (see `satchel workspace users list`)")
            user_id = int(row["id"])
            notes = int(
                self._db.execute("SELECT COUNT(*) FROM notes WHERE user_id = ?", (user_id,)).fetchone()[0]
            )
            if notes and not delete_notes:
                raise AccountError(
                    f"{name!r} has {notes} note(s): pass --delete-notes to remove them with the user"
                )
            self._db.execute("DELETE FROM notes WHERE user_id = ?", (user_id,))
            self._db.execute("DELETE FROM idempotency_keys WHERE user_id = ?", (user_id,))
            grants = "SELECT id FROM oauth_grants WHERE user_id = ?"
            self._db.execute(f"DELETE FROM oauth_tokens WHERE grant_id IN ({grants})", (user_id,))
            self._db.execute("DELETE FROM oauth_grants WHERE user_id = ?", (user_id,))
            self._db.execute("DELETE FROM oauth_codes WHERE user_id = ?", (user_id,))
            self._db.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return notes

    def authenticate(self, name: str, password: str) -> int | None:
        """The id of the user `name` if `password` is theirs, else None (the same cost either way)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, password_hash FROM users WHERE name = ? AND password_hash IS NOT NULL", (name,)
            ).fetchone()
        if len(password) > MAX_PASSWORD:
            return None
        stored = row["password_hash"] if row is not None else _DUMMY_HASH
        matches = password_matches(password, stored)
        return int(row["id"]) if row is not None and matches else None


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=_SCRYPT_LEN
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
