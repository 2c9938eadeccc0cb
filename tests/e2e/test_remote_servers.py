"""A real third-party MCP server on another origin, added by URL in the app: npm @modelcontextprotocol/server-everything
in its Streamable HTTP mode. Once it answers CORS (the browser talks to it directly) and once it does not (a Caddy
front strips CORS, and `satchel serve` relays); either way its tools are listed, a tool runs with the arguments typed
in its form and its result is shown, the server's entry says which path is used and why, and offline the tools are
still listed from the mirror. In its `sse` mode (the older HTTP+SSE transport) the app falls back to SSE after the
Streamable HTTP handshake is refused, remembers that, and runs the tool the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.conformance.app_client import add_server
from tests.e2e.host_page import result_box
from tests.support.app_page import open_ready
from tests.support.browser import ConsoleWatch
from tests.support.everything_server import EverythingServer
from tests.support.served_app import ServerProcess

pytestmark = pytest.mark.e2e


def run_echo(page: Page, entry: Locator, message: str, *, shows: str | None = None) -> None:
    """Run the server's `echo` tool from its form, allowing it once; wait for what it shows (by default, its echo)."""
    entry.locator(".tool-list button[data-tool='echo']").click()
    form = page.locator("#tool-view form[data-tool='echo']")
    form.locator("[data-field='message'] :is(input, textarea)").fill(message)
    form.get_by_role("button", name="Run").click()
    dialog = page.locator("#approval-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Allow once", exact=True).click()
    expect(result_box(page)).to_contain_text(shows or f"Echo: {message}")


@pytest.mark.parametrize(("cors", "path"), [(True, "directly"), (False, "relay")])
def test_a_server_on_another_origin_is_added_by_url_and_its_tool_runs(
    cors: bool, path: str, relaying_server: ServerProcess, page: Page, context: BrowserContext, tmp_path: Path
) -> None:
    everything = EverythingServer(tmp_path / "everything", cors=cors)
    everything.start()
    try:
        console = ConsoleWatch(page)
        open_ready(page, relaying_server.url)
        entry = add_server(page, everything.mcp_url)
        expect(entry.locator(".tool-list button[data-tool='echo']")).to_be_visible()
        expect(entry.locator("[data-server-reach]")).to_contain_text(path)
        run_echo(page, entry, "hello from the train")
        assert console.csp_violations() == []

        context.set_offline(True)
        page.reload()
        expect(entry.locator(".tool-list button[data-tool='echo']")).to_be_visible()
    finally:
        context.set_offline(False)
        everything.stop()


@pytest.mark.parametrize(("cors", "path"), [(True, "directly"), (False, "relay")])
def test_a_server_on_the_older_http_sse_transport_is_added_by_url_and_its_tool_runs(
    cors: bool, path: str, relaying_server: ServerProcess, page: Page, context: BrowserContext, tmp_path: Path
) -> None:
    everything = EverythingServer(tmp_path / "everything", cors=cors, mode="sse")
    everything.start()
    try:
        console = ConsoleWatch(page)
        open_ready(page, relaying_server.url)
        entry = add_server(page, everything.mcp_url)
        expect(entry.locator(".tool-list button[data-tool='echo']")).to_be_visible()
        expect(entry.locator("[data-fact='transport']")).to_have_text("sse")
        expect(entry.locator("[data-server-reach]")).to_contain_text(path)
        expect(entry.locator("[data-fact='protocol']")).to_contain_text("MCP ")
        run_echo(page, entry, "hello over the old transport")
        assert console.csp_violations() == []

        # Remembered: after a reload the app goes straight to SSE, and a call still works.
        page.reload()
        expect(entry.locator("[data-fact='transport']")).to_have_text("sse")
        run_echo(page, entry, "hello again")

        # Offline the tools are listed from the mirror, and a call says it needs the network (it is not queued).
        context.set_offline(True)
        page.reload()
        expect(entry.locator(".tool-list button[data-tool='echo']")).to_be_visible()
        run_echo(page, entry, "from the tunnel", shows="needs the network")
    finally:
        context.set_offline(False)
        everything.stop()
