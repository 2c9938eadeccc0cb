"""Adding an MCP server as a person does: by URL it is listed with its tools and answers calls; disabled, the router
refuses it; removed, it is gone. A pasted configuration that starts a program says it runs only on a desktop. An
upstream registry's entry is added with the URL variable and headers it asks for.

The added server is the app's own workspace, at its real URL (`<origin>/mcp/workspace`, which `satchel serve`
serves). The page talks to it as to any added server, at `/mcp/user.127.0.0.1-<port>%2Fmcp-workspace`, and the
service worker's router forwards that to the URL: the router only answers `/mcp/<name>` requests made by pages, and
its own `fetch` of `/mcp/workspace` goes to the network. A server on another origin needs the cross-origin work
(CORS, sign-in) that is not part of this test."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.host_page import notes_in, open_with_workspace_tools, result_box, run_tool
from tests.support.app_page import open_ready
from tests.support.browser import ConsoleWatch
from tests.support.registry_entries import serve_registry, upstream_entry
from tests.support.served_app import BuiltSite, ServerProcess

#: JSON-RPC error code of a call the router refuses (app/common/protocol.js, RpcError.DENIED_BY_POLICY).
DENIED = -32011


def added_servers(page: Page) -> Locator:
    return page.locator("#server-list > li[data-user-added='true']")


def open_add_server(page: Page) -> None:
    page.locator("#add-server summary").click()


def stored_user_servers(page: Page) -> list[dict[str, Any]]:
    """The user-added entries of the mirror, as IndexedDB holds them."""
    entries: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const { listServers, isUserServer } = await import("/common/mirror.js");
            return (await listServers()).filter(isUserServer);
        }"""
    )
    return entries


def call_directly(page: Page, name: str, tool: str) -> dict[str, Any]:
    """A tools/call made straight to the router, as any script of the page could, bypassing the host's checks."""
    answer: dict[str, Any] = page.evaluate(
        """async ([name, tool]) => {
            const response = await fetch(`/mcp/${encodeURIComponent(name)}`, {
                method: "POST",
                headers: {"content-type": "application/json", accept: "application/json, text/event-stream"},
                body: JSON.stringify(
                    {jsonrpc: "2.0", id: 1, method: "tools/call", params: {name: tool, arguments: {}}}
                ),
            });
            return response.json();
        }""",
        [name, tool],
    )
    return answer


def test_server_added_by_url_is_listed_with_its_tools_refused_when_disabled_and_gone_when_removed(
    page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    open_with_workspace_tools(page, server.url)
    open_add_server(page)
    page.get_by_label("Server URL").fill(f"{server.url}/mcp/workspace")
    page.locator("#add-server").get_by_role("button", name="Add", exact=True).click()

    added = added_servers(page)
    expect(added).to_have_count(1)
    expect(page.locator("#add-server [role=status]")).to_have_text(
        f"Added 127.0.0.1:{server.port}/mcp/workspace."
    )
    expect(added.get_by_role("button", name="Save a note", exact=True)).to_be_visible()
    name = added.get_attribute("data-server")
    assert name == f"user.127.0.0.1-{server.port}/mcp-workspace"
    expect(added.locator("[data-fact=origin]")).to_have_text(server.url)
    expect(added.locator("[data-fact=transport]")).to_have_text("streamable-http")
    # The workspace speaks 2026-07-28 (and 2025-11-25): the app negotiates the newer era.
    expect(added.locator("[data-fact=protocol]")).to_have_text("MCP 2026-07-28 (stateless)")
    expect(added.locator("[data-server-auth]")).to_be_empty()

    added.get_by_role("button", name="Save a note", exact=True).click()
    expect(page.locator("#tool-view .tool-server")).to_have_text(f"on 127.0.0.1:{server.port}/mcp/workspace")
    run_tool(page, {"title": "Through the added server", "body": "Added by its URL."}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-ok")
    assert notes_in(server.db_path, "Through the added server") == 1

    added.get_by_role("button", name="Disable").click()
    expect(added).to_have_attribute("data-disabled", "true")
    expect(added.get_by_role("button", name="Save a note", exact=True)).to_have_count(0)
    refused = call_directly(page, name, "list_notes")
    assert refused["error"]["code"] == DENIED
    assert refused["error"]["message"] == (
        f'127.0.0.1:{server.port}/mcp/workspace is disabled: enable it under "Servers and tools" to use it'
    )

    added.get_by_role("button", name="Enable").click()
    expect(added).to_have_attribute("data-disabled", "false")
    expect(added.get_by_role("button", name="Save a note", exact=True)).to_be_visible()

    added.get_by_role("button", name="Remove").click()
    dialog = page.locator("#server-dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Remove 127.0.0.1:{server.port}/mcp/workspace?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(added_servers(page)).to_have_count(0)
    expect(dialog).to_be_hidden()
    assert console.errors == [] and console.csp_violations() == []
    # Its URL is unknown now: a 404, which the browser also logs as an error.
    gone = call_directly(page, name, "list_notes")
    assert gone["error"]["message"] == f"no MCP server named {name} in the registry"


def test_pasted_configuration_that_starts_a_program_runs_only_on_a_desktop(
    page: Page, server: ServerProcess
) -> None:
    open_ready(page, server.url)
    open_add_server(page)
    config = page.get_by_label("Paste configuration")
    error = page.locator("#add-server [data-field=config] .field-error")
    add = page.get_by_role("button", name="Add from configuration")

    config.fill('{"mcpServers": {"files": {"command": "npx",}}}')
    add.click()
    expect(error).to_have_text(re.compile(r"^The configuration is not valid JSON: .* at line 1, column 44$"))

    config.fill(
        json.dumps({"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-filesystem", "/tmp"]}}})
    )
    add.click()
    expect(error).to_have_text(
        "Runs only on a desktop: files starts a program (npx), which a web app cannot do. "
        "Add a server that is reached by URL instead."
    )
    expect(config).to_have_attribute("aria-invalid", "true")
    expect(added_servers(page)).to_have_count(0)


#: An upstream registry's server whose URL names its port as a variable (the workspace of the test's own server,
#: once the user fills it in) and that asks for a secret key and a region.
TEAM_NOTES = upstream_entry(
    "org.example/team-notes",
    "2.1.0",
    title="Team notes",
    remotes=[
        {
            "type": "streamable-http",
            "url": "http://127.0.0.1:{port}/mcp/workspace",
            "variables": {
                "port": {"description": "The port your notes server listens on", "isRequired": True}
            },
            "headers": [
                {
                    "name": "X-Team-Key",
                    "description": "Your team's key",
                    "isRequired": True,
                    "isSecret": True,
                },
                {"name": "X-Region", "choices": ["eu", "us"], "default": "eu"},
            ],
        }
    ],
)


@pytest.fixture
def served_with_upstream(site: BuiltSite, tmp_path: Path) -> Iterator[ServerProcess]:
    """`satchel serve` merging an upstream registry (on another port) that lists TEAM_NOTES."""
    with serve_registry([TEAM_NOTES]) as registry:
        process = ServerProcess(
            site.dist_dir,
            tmp_path / "server.log",
            tmp_path / "workspace.db",
            anonymous_workspace=True,
            upstreams=[registry],
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()


def test_registry_entry_is_added_with_the_values_it_asks_for(
    page: Page, served_with_upstream: ServerProcess
) -> None:
    server = served_with_upstream
    open_with_workspace_tools(page, server.url)
    entry = page.locator("#server-list > li[data-server='org.example/team-notes']")
    expect(entry).to_contain_text("Add it to use it: it needs values that only you can give")
    entry.get_by_role("button", name="Add").click()
    dialog = page.locator("#server-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Add Team notes")
    port = dialog.get_by_label("port (part of the server's URL)")
    key = dialog.get_by_label("X-Team-Key header")
    expect(port).to_be_focused()
    expect(key).to_have_attribute("type", "password")
    expect(dialog.get_by_label("X-Region header")).to_have_value('"eu"')  # the default, among the choices

    dialog.get_by_role("button", name="Add", exact=True).click()
    for field in ("url:port", "header:X-Team-Key"):
        expect(dialog.locator(f"[data-field='{field}'] .field-error")).to_have_text("required")
    expect(key).to_have_attribute("aria-invalid", "true")

    port.fill(str(server.port))
    key.fill("k-123")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    added = added_servers(page)
    expect(added.get_by_role("heading")).to_contain_text("Team notes")
    expect(added.get_by_role("button", name="Save a note", exact=True)).to_be_visible()
    expect(added.locator("[data-fact=origin]")).to_have_text(server.url)
    [stored] = stored_user_servers(page)
    assert stored["server"]["remotes"] == [{"type": "streamable-http", "url": f"{server.url}/mcp/workspace"}]
    assert stored["server"]["version"] == "2.1.0"
    meta = stored["server"]["_meta"]["io.satchel/user"]
    assert {key: meta[key] for key in ("source", "registryName", "disabled", "headers")} == {
        "source": "registry",
        "registryName": "org.example/team-notes",
        "disabled": False,
        "headers": {"X-Team-Key": "k-123", "X-Region": "eu"},
    }
    # The registry's own entry is still offered, and adding the same endpoint again is refused next to Add.
    entry.get_by_role("button", name="Add").click()
    port.fill(str(server.port))
    key.fill("k-456")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog.locator(".schema-form > .field-error")).to_have_text(
        f"{server.url}/mcp/workspace is already added, as Team notes"
    )
