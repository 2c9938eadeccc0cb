"""Signing in to a remote MCP server in the app, as a person does, against a real OAuth authorization server and
protected MCP server (tests/support/oauth_mcp_server.py, built on the Python MCP SDK) on another origin: the app
discovers, registers, sends the user to the consent page in a popup, and comes back signed in with PKCE S256 and
the server's `resource`; an expired token is refreshed without asking anyone; and a call queued offline that meets a
signed-out server waits in the Outbox for the sign-in and is then delivered exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.conformance.app_client import add_server, server_entry
from tests.e2e.host_page import result_box
from tests.support.app_page import open_ready
from tests.support.oauth_mcp_server import OAuthMcpServer
from tests.support.served_app import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(params=[True, False], ids=["cors", "relay"])
def notes_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OAuthMcpServer]:
    with OAuthMcpServer(tmp_path, cors=request.param) as server:
        yield server


def sign_in_with_consent(page: Page, entry: Locator, button: str = "Sign in") -> None:
    """Press the entry's sign-in button and approve on the authorization server's consent page (a popup)."""
    with page.expect_popup() as opened:
        entry.get_by_role("button", name=button, exact=True).click()
    popup = opened.value
    popup.get_by_role("button", name="Approve").click()
    expect(entry.locator("[data-sign-in='signed-in']")).to_be_visible()


def run(page: Page, entry: Locator, tool: str, fields: dict[str, str]) -> None:
    entry.locator(f".tool-list button[data-tool='{tool}']").click()
    form = page.locator(f"#tool-view form[data-tool='{tool}']")
    for name, value in fields.items():
        form.locator(f"[data-field='{name}'] :is(input, textarea)").fill(value)
    form.get_by_role("button", name="Run").click()
    dialog = page.locator("#approval-dialog")
    expect(dialog.or_(result_box(page))).to_be_visible()
    if dialog.is_visible():
        dialog.get_by_role("button", name="Always allow", exact=True).click()


def test_sign_in_on_the_consent_page_then_a_refresh_after_the_token_expires(
    relaying_server: ServerProcess, notes_server: OAuthMcpServer, page: Page
) -> None:
    open_ready(page, relaying_server.url)
    entry = add_server(page, notes_server.mcp_url)
    expect(entry.locator("[data-sign-in='needed']")).to_be_visible()
    sign_in_with_consent(page, entry)
    expect(entry.locator(".tool-list button[data-tool='save_note']")).to_be_visible()

    state = notes_server.state()
    assert state["registrations"] == 1
    [authorization] = state["authorization_requests"]
    assert authorization["code_challenge_method"] == "S256"
    assert authorization["resource"] == notes_server.mcp_url
    assert [(r["grant_type"], r["resource"]) for r in state["token_requests"]] == [
        ("authorization_code", notes_server.mcp_url)
    ]

    run(page, entry, "save_note", {"title": "Tunnel", "body": "signed in"})
    expect(result_box(page)).to_contain_text("Tunnel")

    assert notes_server.expire_tokens() >= 1
    run(page, entry, "list_notes", {})
    expect(result_box(page)).to_contain_text("Tunnel")
    grants = [r["grant_type"] for r in notes_server.state()["token_requests"]]
    assert grants == ["authorization_code", "refresh_token"], (
        "the expired token was refreshed, nobody was asked"
    )
    expect(entry.locator("[data-sign-in='signed-in']")).to_be_visible()


def test_a_queued_call_waits_for_the_sign_in_and_is_then_delivered_once(
    relaying_server: ServerProcess, notes_server: OAuthMcpServer, page: Page, context: BrowserContext
) -> None:
    open_ready(page, relaying_server.url)
    entry = add_server(page, notes_server.mcp_url)
    sign_in_with_consent(page, entry)
    expect(entry.locator(".tool-list button[data-tool='save_note']")).to_be_visible()

    context.set_offline(True)
    run(page, entry, "save_note", {"title": "From the tunnel", "body": "queued"})
    expect(result_box(page)).to_contain_text("Queued")
    entry.get_by_role("button", name="Sign out").click()
    expect(entry.locator("[data-sign-in='signed-in']")).to_have_count(0)

    context.set_offline(False)
    waiting = page.locator("#outbox-list [data-status='signin']")
    expect(waiting).to_contain_text("save_note")
    assert notes_server.state()["notes"] == []

    expect(entry.locator("[data-sign-in='needed']")).to_be_visible()
    sign_in_with_consent(page, entry)
    expect(page.locator("#outbox-list [data-status='sent']")).to_contain_text("save_note")
    state = notes_server.state()
    assert [note["title"] for note in state["notes"]] == ["From the tunnel"]
    assert list(state["deliveries"].values()) == [1]


def test_where_popups_are_refused_the_sign_in_takes_the_app_window_and_comes_back(
    relaying_server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    """Some installed apps get no popup: `window.open` returns null, so the app goes to the authorization server in
    its own window, and the callback page brings it back, signed in."""
    with OAuthMcpServer(tmp_path, cors=True) as notes_server:
        page.add_init_script("window.open = () => null;")
        open_ready(page, relaying_server.url)
        entry = add_server(page, notes_server.mcp_url)
        entry.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"{relaying_server.url}/")
        entry = server_entry(page, notes_server.mcp_url)
        expect(entry.locator("[data-sign-in='signed-in']")).to_be_visible()
        expect(entry.locator(".tool-list button[data-tool='save_note']")).to_be_visible()
