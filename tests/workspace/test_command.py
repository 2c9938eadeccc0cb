"""`satchel workspace users|tokens` and the serve options of the workspace: each bad input is one clear line and a
non-zero exit; a token is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mcp.server.auth.provider import AuthorizationParams
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import AnyUrl

from satchel.cli import main
from satchel.server import workspace_public_url
from satchel.workspace.accounts import AccountStore
from satchel.workspace.grants import GrantStore
from satchel.workspace.notes import NoteStore

PASSWORD = "a long enough password"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def assert_one_line_error(result: Result, text: str) -> None:
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and text in lines[0], result.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "workspace.db"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


def add_alice(db: Path, password_file: Path) -> None:
    result = run("workspace", "users", "add", "alice", "--password-file", str(password_file), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "added user alice" in result.output


def sign_in_device(db: Path, user: str, device: str) -> tuple[int, str]:
    """A completed sign-in (what the flow leaves behind), as the server's own store makes it: (grant id, token)."""
    accounts = AccountStore(db)
    user_id = accounts.authenticate(user, PASSWORD)
    accounts.close()
    assert user_id is not None
    grants = GrantStore(db)
    client = OAuthClientInformationFull(
        client_id=f"client-{device}", client_name=device, redirect_uris=[AnyUrl("http://127.0.0.1/cb")]
    )
    grants.register_client(client)
    params = AuthorizationParams(
        state=None,
        scopes=["notes"],
        code_challenge="x" * 43,
        redirect_uri=AnyUrl("http://127.0.0.1/cb"),
        redirect_uri_provided_explicitly=True,
        resource="http://127.0.0.1:8470/mcp/workspace",
    )
    code = grants.code(
        grants.issue_code(user_id, client.client_id, params, params.resource or ""), client.client_id
    )
    assert code is not None
    tokens = grants.redeem_code(code, ["notes"])
    [grant] = [g for g in grants.grants() if g.client_name == device]
    grants.close()
    return grant.id, tokens.access_token


def test_users_are_added_listed_and_removed(db: Path, password_file: Path) -> None:
    add_alice(db, password_file)
    result = run("workspace", "users", "add", "bob", "--db", str(db), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    listed = run("workspace", "users", "list", "--db", str(db))
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.output.splitlines()[1:]]
    assert names == ["alice", "bob"]
    assert PASSWORD not in db.read_bytes().decode("latin-1")
    assert run("workspace", "users", "remove", "bob", "--db", str(db)).exit_code == 0
    assert "bob" not in run("workspace", "users", "list", "--db", str(db)).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "local"), "the built-in user"),
        (("users", "add", "no spaces"), "is not a user name"),
        (("users", "add", "-x"), "No such option"),
    ],
)
def test_bad_user_names_are_refused(
    db: Path, password_file: Path, args: tuple[str, ...], message: str
) -> None:
    result = run("workspace", *args, "--password-file", str(password_file), "--db", str(db))
    assert result.exit_code != 0 and message in result.output


def test_a_name_taken_a_short_password_or_an_unreadable_password_file_is_one_line_error(
    db: Path, password_file: Path, tmp_path: Path
) -> None:
    add_alice(db, password_file)
    again = run("workspace", "users", "add", "alice", "--password-file", str(password_file), "--db", str(db))
    assert_one_line_error(again, "there is already a user 'alice'")
    short = tmp_path / "short"
    short.write_text("abc\n")
    result = run("workspace", "users", "add", "carol", "--password-file", str(short), "--db", str(db))
    assert_one_line_error(result, "at least 8 characters")
    missing = run(
        "workspace", "users", "add", "carol", "--password-file", str(tmp_path / "nope"), "--db", str(db)
    )
    assert_one_line_error(missing, "cannot read the password file")
    empty = tmp_path / "empty"
    empty.write_text("")
    blank = run("workspace", "users", "add", "carol", "--password-file", str(empty), "--db", str(db))
    assert_one_line_error(blank, "has no password on its first line")


def test_removing_a_user_with_notes_needs_delete_notes(db: Path, password_file: Path) -> None:
    add_alice(db, password_file)
    accounts = AccountStore(db)
    [alice] = accounts.list()
    accounts.close()
    notes = NoteStore(db)
    notes.save("Alice's", "note", user=alice.id)
    notes.close()
    refused = run("workspace", "users", "remove", "alice", "--db", str(db))
    assert_one_line_error(refused, "'alice' has 1 note(s): pass --delete-notes")
    removed = run("workspace", "users", "remove", "alice", "--delete-notes", "--db", str(db))
    assert removed.exit_code == 0 and "and 1 note(s)" in removed.output
    assert_one_line_error(
        run("workspace", "users", "remove", "alice", "--db", str(db)), "there is no user 'alice'"
    )


def test_commands_on_a_missing_workspace_say_where_they_looked(tmp_path: Path) -> None:
    for command in (("users", "list"), ("tokens", "list"), ("tokens", "revoke", "1")):
        result = run("workspace", *command, "--db", str(tmp_path / "none.db"))
        assert_one_line_error(result, f"no workspace at {tmp_path / 'none.db'}")


def test_tokens_are_listed_without_secrets_and_revoked_by_id(db: Path, password_file: Path) -> None:
    add_alice(db, password_file)
    assert "no signed-in devices" in run("workspace", "tokens", "list", "--db", str(db)).output
    grant_id, token = sign_in_device(db, "alice", "Kitchen tablet")
    listed = run("workspace", "tokens", "list", "--db", str(db))
    assert listed.exit_code == 0
    [header, row] = listed.output.strip().splitlines()
    assert header.split()[:4] == ["ID", "USER", "DEVICE", "ISSUED"]
    assert row.split()[:4] == [str(grant_id), "alice", "Kitchen", "tablet"]
    assert "never" in row, "not used yet"
    assert token not in listed.output

    revoked = run("workspace", "tokens", "revoke", str(grant_id), "--db", str(db))
    assert revoked.exit_code == 0, revoked.output
    grants = GrantStore(db)
    assert grants.access_token(token) is None
    grants.close()
    assert "no signed-in devices" in run("workspace", "tokens", "list", "--db", str(db)).output
    again = run("workspace", "tokens", "revoke", str(grant_id), "--db", str(db))
    assert_one_line_error(again, f"there is no signed-in device {grant_id}")
    not_a_number = run("workspace", "tokens", "revoke", "abc", "--db", str(db))
    assert not_a_number.exit_code == 2 and "'abc' is not a valid integer" in not_a_number.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--host", "0.0.0.0", "--workspace-anonymous"),
            "--workspace-anonymous is only for a workspace on this machine",
        ),
        (("--host", "192.168.1.20", "--workspace-anonymous"), "not on --host 192.168.1.20"),
        (("--host", "0.0.0.0"), "give it with --public-url"),
        (("--host", "192.168.1.20"), "would take passwords over plain http"),
        (("--public-url", "http://satchel.lan"), "needs https on any name but localhost"),
        (("--public-url", "https://satchel.lan/app"), "is not an origin"),
    ],
)
def test_serve_refuses_an_unsafe_workspace_with_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(
        "serve", "--dist", str(tmp_path / "dist"), "--db", str(tmp_path / "w.db"), "--port", "0", *args
    )
    assert_one_line_error(result, message)


def test_serve_accepts_anonymous_on_loopback(tmp_path: Path) -> None:
    """It gets past the workspace checks to the next problem: there is no built site."""
    result = run(
        "serve",
        "--dist",
        str(tmp_path / "dist"),
        "--db",
        str(tmp_path / "w.db"),
        "--port",
        "0",
        "--workspace-anonymous",
    )
    assert_one_line_error(result, "no built app")


@pytest.mark.parametrize(
    ("host", "tls", "public_url", "issuer"),
    [
        ("127.0.0.1", False, None, "http://127.0.0.1:8470"),
        ("::1", False, None, "http://[::1]:8470"),
        ("192.168.1.20", True, None, "https://192.168.1.20:8470"),
        ("0.0.0.0", False, "https://Satchel.Example.org/", "https://satchel.example.org"),
        ("127.0.0.1", False, "http://localhost:9000", "http://localhost:9000"),
    ],
)
def test_the_workspace_issuer_comes_from_host_and_port_or_the_public_url(
    host: str, tls: bool, public_url: str | None, issuer: str
) -> None:
    assert workspace_public_url(host, 8470, tls=tls, public_url=public_url) == issuer
