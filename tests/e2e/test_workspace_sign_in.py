"""Signing in to the workspace from the app, as a person does: the workspace of a `satchel serve` that is not
anonymous answers 401, the app signs in through the same client flow as for any remote server (discovery,
registration, PKCE, `resource`) on the workspace's own sign-in page in a popup, and saves a note. After an
administrator revokes the device (`satchel workspace tokens revoke`), the next note, queued offline, waits in the
Outbox under "Sign-in needed" and is delivered once, to the same user, after signing in again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import BrowserContext, Locator, Page, expect

from satchel.cli import main
from tests.e2e.host_page import open_tool, result_box, run_tool
from tests.support.app_page import open_ready
from tests.support.browser import ConsoleWatch
from tests.support.served_app import BuiltSite, ServerProcess

pytestmark = pytest.mark.e2e

PASSWORD = "the kitchen tablet's password"


def workspace_cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["workspace", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def signing_in_server(site: BuiltSite, tmp_path: Path) -> Iterator[ServerProcess]:
    """`satchel serve` on 127.0.0.1 without --workspace-anonymous, with one user."""
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    db = tmp_path / "workspace.db"
    workspace_cli("users", "add", "alice", "--password-file", str(password_file), "--db", str(db))
    process = ServerProcess(site.dist_dir, tmp_path / "server.log", db, anonymous_workspace=False)
    process.start()
    yield process
    process.stop()


def workspace_entry(page: Page) -> Locator:
    return page.locator("#server-list > li[data-server='io.satchel/workspace']")


def sign_in_on_the_workspace_page(page: Page, entry: Locator) -> None:
    """Press Sign in, and sign in as alice on the workspace's own page (a popup)."""
    with page.expect_popup() as opened:
        entry.get_by_role("button", name="Sign in", exact=True).click()
    popup = opened.value
    expect(popup.get_by_role("heading", name="Sign in to the workspace")).to_be_visible()
    popup.get_by_label("User name").fill("alice")
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Sign in and allow").click()
    expect(entry.locator("[data-sign-in='signed-in']")).to_be_visible()


def notes_of(db_path: Path, user: str) -> list[str]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT n.title FROM notes n JOIN users u ON u.id = n.user_id WHERE u.name = ? ORDER BY n.id",
            (user,),
        ).fetchall()
    db.close()
    return [title for (title,) in rows]


def test_the_app_signs_in_to_the_workspace_and_a_revoked_device_waits_for_a_new_sign_in(
    signing_in_server: ServerProcess, page: Page, context: BrowserContext, console: ConsoleWatch
) -> None:
    server = signing_in_server
    open_ready(page, server.url)
    entry = workspace_entry(page)
    expect(entry.locator("[data-sign-in='needed']")).to_be_visible()
    sign_in_on_the_workspace_page(page, entry)

    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Signed in", "body": "from the tablet"}, approval="Allow once")
    expect(result_box(page)).to_contain_text("Signed in")
    assert notes_of(server.db_path, "alice") == ["Signed in"]

    listed = workspace_cli("tokens", "list", "--db", str(server.db_path))
    [device] = listed.strip().splitlines()[1:]
    assert device.split()[1] == "alice"
    workspace_cli("tokens", "revoke", device.split()[0], "--db", str(server.db_path))

    server.stop()
    context.set_offline(True)
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "After the revocation", "body": "queued"}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-queued")
    server.start()
    context.set_offline(False)

    waiting = page.locator("#outbox-list [data-server='io.satchel/workspace'] [data-status='signin']")
    expect(waiting.locator(".badge")).to_have_text("Sign-in needed")
    assert notes_of(server.db_path, "alice") == ["Signed in"]

    expect(entry.locator("[data-sign-in='needed']")).to_be_visible()
    sign_in_on_the_workspace_page(page, entry)
    expect(page.locator("#outbox-counts")).to_have_text("0 pending · 1 sent · 0 failed")
    assert notes_of(server.db_path, "alice") == ["Signed in", "After the revocation"]
    assert console.csp_violations() == []
