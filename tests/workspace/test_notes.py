"""The notes store: versioned schema, WAL, save-once keys, safe full-text queries, stable pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.workspace.notes import (
    MAX_QUERY,
    MAX_QUERY_WORDS,
    MIGRATIONS,
    IdempotencyConflict,
    NoteError,
    NoteStore,
    fts_query,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NoteStore]:
    notes = NoteStore(tmp_path / "notes.db")
    yield notes
    notes.close()


def test_a_new_file_gets_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    store = NoteStore(tmp_path / "notes.db")
    store.close()
    db = sqlite3.connect(tmp_path / "notes.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"notes", "idempotency_keys", "notes_fts"} <= tables


def test_reopening_keeps_notes_and_keys(tmp_path: Path) -> None:
    first = NoteStore(tmp_path / "notes.db")
    note, _ = first.save("Kept", "across restarts", key="k")
    first.close()
    second = NoteStore(tmp_path / "notes.db")
    assert second.save("Kept", "across restarts", key="k") == (note, False)
    assert second.schema_version == len(MIGRATIONS)
    second.close()


def test_a_file_from_a_newer_satchel_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(
        NoteError, match=r"newer than this Satchel knows.*upgrade Satchel or use another --db"
    ):
        NoteStore(path)


def test_saving_with_a_key_twice_returns_the_first_note(store: NoteStore) -> None:
    note, created = store.save("Title", "Body", ["a"], key="k")
    assert created is True
    assert store.save("Title", "Body", ["a"], key="k") == (note, False)
    assert store.page()[0] == [note]


def test_reusing_a_key_for_other_content_is_refused_and_changes_nothing(store: NoteStore) -> None:
    note, _ = store.save("Title", "Body", key="k")
    with pytest.raises(IdempotencyConflict, match="'k' was already used to save note 1 with other content"):
        store.save("Title", "Other body", key="k")
    with pytest.raises(IdempotencyConflict):
        store.save("Title", "Body", ["new tag"], key="k")
    assert store.page()[0] == [note]


def test_replaying_the_key_of_a_deleted_note_does_not_bring_it_back(store: NoteStore) -> None:
    note, _ = store.save("Gone", "soon", key="k")
    assert store.delete(note.id) is True
    with pytest.raises(NoteError, match="has been deleted since; use a new key"):
        store.save("Gone", "soon", key="k")
    assert store.page()[0] == []
    fresh, created = store.save("Gone", "soon", key="k2")
    assert created and fresh.id != note.id


def test_without_a_key_identical_content_is_one_note_but_a_deleted_one_can_be_saved_again(
    store: NoteStore,
) -> None:
    note, _ = store.save("Same", "content", ["t"])
    assert store.save("Same", "content", ["t"]) == (note, False)
    assert store.save("Same", "content", ["u"])[1] is True
    store.delete(note.id)
    again, created = store.save("Same", "content", ["t"])
    assert created and again.id > note.id


def test_titles_and_tags_are_normalised(store: NoteStore) -> None:
    note, _ = store.save("  Title  ", "b", [" x ", "", "y", "x"])
    assert (note.title, note.tags) == ("Title", ("x", "y"))
    with pytest.raises(NoteError, match="title must not be empty"):
        store.save("   ", "b")
    with pytest.raises(NoteError, match="at most 20 tags"):
        store.save("t", "b", [f"tag{i}" for i in range(21)])
    with pytest.raises(NoteError, match="idempotency key must be 1 to 200"):
        store.save("t", "b", key="")


def test_pages_are_newest_first_and_stable_when_notes_are_added(store: NoteStore) -> None:
    ids = [store.save(f"n{i}", "b")[0].id for i in range(5)]
    first, cursor = store.page(2)
    assert [n.id for n in first] == [ids[4], ids[3]]
    store.save("newer", "b")
    second, cursor = store.page(2, cursor)
    third, last = store.page(2, cursor)
    assert [n.id for n in second + third] == [ids[2], ids[1], ids[0]]
    assert last is None
    with pytest.raises(NoteError, match="cursor is not one list_notes returned"):
        store.page(2, "garbage!")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("hello", '"hello"*'),
        ("two words", '"two" "words"*'),
        ('say "hi"', '"say" "hi"*'),
        ("AND OR NOT", '"AND" "OR" "NOT"*'),
        ("col:umn", '"col" "umn"*'),
        ("東京", '"東京"*'),
        ("* - ( ) ^ \"'", None),
        ("", None),
    ],
)
def test_fts_query_quotes_every_word(text: str, query: str | None) -> None:
    assert fts_query(text) == query


def test_every_awkward_query_runs_as_plain_words(store: NoteStore) -> None:
    note, _ = store.save("t", "quotes \" and ' and * and (x) NEAR/2 ^start")
    found = {
        text: [hit.note.id for hit in store.search(text)] for text in ["NEAR/2", "^start", "(x)", "and *"]
    }
    assert found == {"NEAR/2": [note.id], "^start": [note.id], "(x)": [note.id], "and *": [note.id]}
    for text in ['"', "'", "*", "(", ")", "x OR", "a:b", "\\", "\x00", "😀"]:
        assert store.search(text) == [], text


def test_a_search_text_past_the_limits_is_refused_naming_them(store: NoteStore) -> None:
    store.save("t", "word")
    assert [hit.note.title for hit in store.search(" ".join(["word"] * MAX_QUERY_WORDS))] == ["t"]
    with pytest.raises(NoteError, match=f"the limit is {MAX_QUERY_WORDS}$"):
        store.search(" ".join(["word"] * (MAX_QUERY_WORDS + 1)))
    with pytest.raises(NoteError, match=f"the limit is {MAX_QUERY}$"):
        store.search("w" * (MAX_QUERY + 1))


def test_a_search_past_its_time_limit_is_stopped_and_the_store_stays_usable(tmp_path: Path) -> None:
    store = NoteStore(tmp_path / "notes.db", search_time_limit=0)
    try:
        for index in range(200):
            store.save(f"note {index}", f"shared words in body {index}")
        with pytest.raises(NoteError, match="ran longer than its limit of 0 s"):
            store.search("shared")
        store.search_time_limit = 60
        assert len(store.search("shared", limit=100)) == 100
        assert store.save("after", "the lock was released")[1] is True
    finally:
        store.close()


def test_notes_and_keys_saved_before_users_existed_go_to_the_local_user(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute(
        "INSERT INTO notes (title, body, tags, content_sha256, created_at) VALUES ('Old', 'note', '[]', 'x', 'then')"
    )
    db.execute("INSERT INTO idempotency_keys VALUES ('old-key', 1, 'x', 'then')")
    db.close()
    store = NoteStore(path)
    try:
        [note] = store.page()[0]
        assert note.title == "Old"
        assert store.page(user=2) == ([], None)
        # The key still replays for the local user, and is free for anyone else.
        with pytest.raises(IdempotencyConflict):
            store.save("Other", "content", key="old-key")
        assert store.save("Other", "content", key="old-key", user=2)[1] is True
    finally:
        store.close()


def test_one_users_key_and_content_never_touch_anothers(store: NoteStore) -> None:
    mine, _ = store.save("Same", "content", key="k", user=1)
    theirs, created = store.save("Same", "content", key="k", user=2)
    assert created and theirs.id != mine.id
    assert store.get(mine.id, user=2) is None
    assert store.delete(mine.id, user=2) is False
    assert [n.id for n in store.page(user=1)[0]] == [mine.id]
    assert [hit.note.id for hit in store.search("same", user=2)] == [theirs.id]
