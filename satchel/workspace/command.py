"""`satchel workspace`: the administrator's commands for the workspace's users and signed-in devices.

They work on the workspace's SQLite file directly (the one `satchel serve --db` uses; a running server sees every
change at its next request): `users add|list|remove` and `tokens list|revoke`. A token is never shown, only the
grant it belongs to: who, on which device (OAuth client), since when, last used, until when.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click

MAX_PASSWORD_FILE_BYTES = 4096


def default_db_path() -> Path:
    """Where the workspace keeps its notes unless told otherwise ($XDG_DATA_HOME/satchel/workspace.db)."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "satchel" / "workspace.db"


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="SQLite file of the workspace (default: satchel/workspace.db in the user's data folder, as for serve).",
)


def _existing_db(db_path: Path | None) -> Path:
    path = db_path or default_db_path()
    if not path.is_file():
        raise click.ClickException(
            f"no workspace at {path}: give its file with --db (the one `satchel serve` uses)"
        )
    return path


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def workspace() -> None:
    """Manage the workspace's users and signed-in devices."""


@workspace.group()
def users() -> None:
    """Who may sign in to the workspace."""


@workspace.group()
def tokens() -> None:
    """Signed-in devices (one grant each), and revoking them."""


@users.command("add")
@click.argument("name")
@click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read the password from the first line of this file (default: ask for it).",
)
@db_option
def users_add(name: str, password_file: Path | None, db_path: Path | None) -> None:
    """Add user NAME, who signs in with a password (asked for, or read from --password-file)."""
    from satchel.workspace.accounts import AccountError, AccountStore, check_user_name

    try:
        check_user_name(name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    if password_file is not None:
        password = _read_password_file(password_file)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    path = db_path or default_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = AccountStore(path)
    except (OSError, sqlite3.Error, ValueError) as exc:
        raise click.ClickException(f"cannot open the workspace {path}: {exc}") from exc
    try:
        store.add(name, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"added user {name} to {path}")


def _read_password_file(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PASSWORD_FILE_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(f"cannot read the password file {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_PASSWORD_FILE_BYTES:
        raise click.ClickException(f"the password file {path} is larger than {MAX_PASSWORD_FILE_BYTES} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise click.ClickException(f"the password file {path} is not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise click.ClickException(f"the password file {path} has no password on its first line")
    return lines[0]


@users.command("list")
@db_option
def users_list(db_path: Path | None) -> None:
    """List the users, with their notes and signed-in devices."""
    from satchel.workspace.accounts import AccountStore

    path = _existing_db(db_path)
    store = AccountStore(path)
    try:
        found = store.list()
    finally:
        store.close()
    if not found:
        click.echo("no users: add one with `satchel workspace users add NAME`")
        return
    click.echo(f"{'USER':<24} {'NOTES':>6} {'DEVICES':>7}  ADDED")
    for user in found:
        click.echo(
            f"{user.name:<24} {user.notes:>6} {user.devices:>7}  {user.created_at[:16].replace('T', ' ')}"
        )


@users.command("remove")
@click.argument("name")
@click.option(
    "--delete-notes", is_flag=True, help="Delete the user's notes too (refused without it if they have any)."
)
@db_option
def users_remove(name: str, delete_notes: bool, db_path: Path | None) -> None:
    """Remove user NAME and sign out all their devices."""
    from satchel.workspace.accounts import AccountError, AccountStore

    store = AccountStore(_existing_db(db_path))
    try:
        deleted = store.remove(name, delete_notes=delete_notes)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"removed user {name}" + (f" and {deleted} note(s)" if deleted else ""))


@tokens.command("list")
@db_option
def tokens_list(db_path: Path | None) -> None:
    """List the signed-in devices: grant id, user, device, issued, last used, expiry (never a token)."""
    from satchel.workspace.grants import GrantStore

    store = GrantStore(_existing_db(db_path))
    try:
        grants = store.grants()
    finally:
        store.close()
    if not grants:
        click.echo("no signed-in devices")
        return
    click.echo(f"{'ID':>4}  {'USER':<16} {'DEVICE':<28} {'ISSUED':<20} {'LAST USED':<20} EXPIRES")
    for grant in grants:
        device = grant.client_name or "(unnamed client)"
        device = f"{device} [{grant.client_id[:8]}]"
        click.echo(
            f"{grant.id:>4}  {grant.user:<16} {device:<28} {_when(grant.created_at):<20} "
            f"{_when(grant.last_used_at):<20} {_when(grant.expires_at)}"
        )


@tokens.command("revoke")
@click.argument("grant_id", metavar="ID", type=int)
@db_option
def tokens_revoke(grant_id: int, db_path: Path | None) -> None:
    """Revoke the sign-in ID (see `tokens list`): its access and refresh tokens stop working now."""
    from satchel.workspace.grants import GrantError, GrantStore

    store = GrantStore(_existing_db(db_path))
    try:
        store.revoke(grant_id)
    except GrantError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"revoked {grant_id}: that device must sign in again")
