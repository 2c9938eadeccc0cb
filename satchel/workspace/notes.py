"""Notes kept by the workspace server in one SQLite file, searchable with FTS5, saved at most once per key.

Why these choices: the browser queues `save_note` calls while offline and replays them later, possibly more than
once (a flush interrupted after the server answered). Each call carries an idempotency key; the key, the note it
made and a digest of its content are kept in `idempotency_keys`, so a replay returns the note saved the first
time and a different call reusing the key is refused rather than silently merged. A save without a key is
deduplicated on its content, so repeating it is equally harmless. Note ids come from AUTOINCREMENT and are never
reused, so a key can never come to point at another note. The schema is versioned with `PRAGMA user_version` and
migrated forward on open; the file is in WAL mode so reads never wait for a write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from satchel.workspace.accounts_schema import ACCOUNTS_SCHEMA, LOCAL_USER_ID

MAX_TITLE = 200
MAX_BODY = 100_000
MAX_TAGS = 20
MAX_TAG = 50
MAX_KEY = 200
SNIPPET_START = "«"
SNIPPET_END = "»"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 12
MAX_QUERY = 500
"""Longest search text, in characters."""
MAX_QUERY_WORDS = 16
"""Most words one search may look for: each is one more FTS5 phrase to intersect."""
SEARCH_TIME_LIMIT = 2.0
"""Seconds a search may run; it holds the store's lock, so a slow one would stall every other request."""
_PROGRESS_EVERY = 1000
"""SQLite virtual-machine steps between two checks of the search's time limit."""

# Each entry moves the schema one version forward; never edit one that has shipped, add another.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        tags TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX notes_content ON notes (content_sha256);
    CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        note_id INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE VIRTUAL TABLE notes_fts USING fts5(
        title, body, tags, content='notes', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER notes_after_insert AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts (rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
    END;
    CREATE TRIGGER notes_after_delete AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts (notes_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body, old.tags);
    END;
    """,
    # Notes belong to a user (the built-in local one for every note saved before), idempotency keys are scoped per
    # user, and the workspace's OAuth authorization server keeps its users, clients, codes and tokens here.
    ACCOUNTS_SCHEMA,
)

_WORD = re.compile(r"\w+")


class NoteError(ValueError):
    """A request the store refuses; the message says what to change."""


class IdempotencyConflict(NoteError):
    """An idempotency key was reused for different content."""


@dataclass(frozen=True)
class Note:
    id: int
    title: str
    body: str
    tags: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class SearchHit:
    note: Note
    title_highlighted: str
    snippet: str


def open_database(path: Path) -> sqlite3.Connection:
    """A connection to the workspace file at `path` (created if missing), its schema migrated to the latest version.

    The notes, the users and the OAuth records each hold their own connection (WAL: readers never wait) and lock.
    """
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        db.close()
        raise NoteError(
            f"{path} has notes schema {current}, newer than this Satchel knows ({len(MIGRATIONS)}); "
            "upgrade Satchel or use another --db file"
        )
    for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
        try:
            db.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {version}; COMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()
            raise
    return db


class WorkspaceFile:
    """One connection to the workspace file, and the lock that makes a store on it safe to share between threads:
    the base of the stores of users and of sign-in grants, which keep their own connection (WAL: readers never
    wait)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_database(path)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class NoteStore:
    """The notes database. Safe to share between threads: one connection, one lock.

    Every note belongs to a user (`user`, the built-in local user unless given): one user's notes, keys and
    searches never see another's.
    """

    def __init__(self, path: Path | str, *, search_time_limit: float = SEARCH_TIME_LIMIT) -> None:
        self.path = Path(path)
        self.search_time_limit = search_time_limit
        self._lock = threading.Lock()
        self._db = open_database(self.path)

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(
        self,
        title: str,
        body: str,
        tags: Sequence[str] = (),
        key: str | None = None,
        *,
        user: int = LOCAL_USER_ID,
    ) -> tuple[Note, bool]:
        """Save a note; return it and whether it is new. The same key (or, without one, the same content)
        returns the note saved first; the same key with other content raises `IdempotencyConflict`."""
        title, body, clean_tags = _checked(title, body, tags, key)
        digest = _content_digest(title, body, clean_tags)
        with self._lock, _transaction(self._db):
            if key is not None:
                row = self._db.execute(
                    "SELECT note_id, content_sha256 FROM idempotency_keys WHERE user_id = ? AND key = ?",
                    (user, key),
                ).fetchone()
                if row is not None:
                    return self._replayed(key, row["note_id"], row["content_sha256"], digest), False
            else:
                row = self._db.execute(
                    "SELECT * FROM notes WHERE user_id = ? AND content_sha256 = ? ORDER BY id LIMIT 1",
                    (user, digest),
                ).fetchone()
                if row is not None:
                    return _note(row), False
            now = _now()
            cursor = self._db.execute(
                "INSERT INTO notes (title, body, tags, content_sha256, created_at, user_id) VALUES (?, ?, ?, ?, ?, ?)",
                (title, body, json.dumps(clean_tags, ensure_ascii=False), digest, now, user),
            )
            note_id = int(cursor.lastrowid or 0)
            if key is not None:
                self._db.execute(
                    "INSERT INTO idempotency_keys (user_id, key, note_id, content_sha256, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (user, key, note_id, digest, now),
                )
            return Note(note_id, title, body, tuple(clean_tags), now), True

    def _replayed(self, key: str, note_id: int, saved_digest: str, digest: str) -> Note:
        if saved_digest != digest:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used to save note {note_id} with other content; "
                "use a new key for a different note"
            )
        row = self._db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
        if row is None:
            raise NoteError(
                f"note {note_id}, saved with idempotency key {key!r}, has been deleted since; "
                "use a new key to save it again"
            )
        return _note(row)

    def get(self, note_id: int, *, user: int = LOCAL_USER_ID) -> Note | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM notes WHERE id = ? AND user_id = ?", (note_id, user)
            ).fetchone()
        return None if row is None else _note(row)

    def page(
        self, limit: int = 20, cursor: str | None = None, *, user: int = LOCAL_USER_ID
    ) -> tuple[list[Note], str | None]:
        """Notes newest first, `limit` at a time; the second value is the cursor of the next page, if any."""
        before = _decode_cursor(cursor) if cursor else None
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM notes WHERE user_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
                (user, before, before, limit + 1),
            ).fetchall()
        notes = [_note(row) for row in rows[:limit]]
        next_cursor = _encode_cursor(notes[-1].id) if len(rows) > limit else None
        return notes, next_cursor

    def search(self, text: str, limit: int = 20, *, user: int = LOCAL_USER_ID) -> list[SearchHit]:
        """Notes matching every word of `text` (the last one as a prefix), best first, with marked snippets.

        `text` is never handed to FTS5 as query syntax: its words are quoted one by one, so quotes, `AND`,
        `*`, parentheses or a lone `-` are just text to look for. The text is bounded (`MAX_QUERY` characters,
        `MAX_QUERY_WORDS` words) and the search is interrupted after `search_time_limit` seconds, since it holds
        the store's lock; both raise `NoteError`.
        """
        query = fts_query(text)
        if query is None:
            return []
        marks = (SNIPPET_START, SNIPPET_END)
        with self._lock:
            deadline = time.monotonic() + self.search_time_limit
            self._db.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_EVERY)
            try:
                rows = self._db.execute(
                    "SELECT notes.*, highlight(notes_fts, 0, ?, ?) AS title_marked,"
                    " snippet(notes_fts, 1, ?, ?, ?, ?) AS body_snippet"
                    " FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid"
                    " WHERE notes_fts MATCH ? AND notes.user_id = ?"
                    " ORDER BY bm25(notes_fts, 4.0, 1.0, 2.0), notes.id DESC LIMIT ?",
                    (*marks, *marks, SNIPPET_ELLIPSIS, SNIPPET_TOKENS, query, user, limit),
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
                raise NoteError(
                    f"the search ran longer than its limit of {self.search_time_limit:g} s and was stopped; "
                    "search for fewer or more specific words"
                ) from None
            finally:
                self._db.set_progress_handler(None, 0)
        return [SearchHit(_note(row), row["title_marked"], row["body_snippet"]) for row in rows]

    def delete(self, note_id: int, *, user: int = LOCAL_USER_ID) -> bool:
        """Delete a note; False when `user` has none with that id (deleting twice is harmless)."""
        with self._lock, _transaction(self._db):
            cursor = self._db.execute("DELETE FROM notes WHERE id = ? AND user_id = ?", (note_id, user))
            return cursor.rowcount > 0


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression finding every word of `text`, or None when it has no words at all."""
    if len(text) > MAX_QUERY:
        raise NoteError(f"the search text is {len(text):,} characters long; the limit is {MAX_QUERY}")
    words = _WORD.findall(text)
    if len(words) > MAX_QUERY_WORDS:
        raise NoteError(f"the search text has {len(words)} words; the limit is {MAX_QUERY_WORDS}")
    if not words:
        return None
    phrases = ['"' + word.replace('"', '""') + '"' for word in words]
    phrases[-1] += "*"
    return " ".join(phrases)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _checked(title: str, body: str, tags: Sequence[str], key: str | None) -> tuple[str, str, list[str]]:
    title = title.strip()
    if not title:
        raise NoteError("title must not be empty")
    if len(title) > MAX_TITLE:
        raise NoteError(f"title must be at most {MAX_TITLE} characters")
    if len(body) > MAX_BODY:
        raise NoteError(f"body must be at most {MAX_BODY} characters")
    clean_tags: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if len(tag) > MAX_TAG:
            raise NoteError(f"tag {tag[:20]!r}… is longer than {MAX_TAG} characters")
        if tag and tag not in clean_tags:
            clean_tags.append(tag)
    if len(clean_tags) > MAX_TAGS:
        raise NoteError(f"a note takes at most {MAX_TAGS} tags")
    if key is not None and not 0 < len(key) <= MAX_KEY:
        raise NoteError(f"idempotency key must be 1 to {MAX_KEY} characters")
    return title, body, clean_tags


def _content_digest(title: str, body: str, tags: Sequence[str]) -> str:
    canonical = json.dumps([title, body, list(tags)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _note(row: sqlite3.Row) -> Note:
    return Note(row["id"], row["title"], row["body"], tuple(json.loads(row["tags"])), row["created_at"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode_cursor(note_id: int) -> str:
    return base64.urlsafe_b64encode(f"before:{note_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "before":
            raise ValueError(text)
        return int(number)
    except (binascii.Error, ValueError):
        raise NoteError("cursor is not one list_notes returned; list again without it") from None
