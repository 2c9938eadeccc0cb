"""The MCP host: registry mirror, service-worker router, workspace calls online and queued offline, approvals."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.e2e.host_page import (
    ToolCallSpy,
    notes_in,
    open_tool,
    open_with_workspace_tools,
    result_box,
    run_tool,
    tool_button,
)
from tests.support.browser import ConsoleWatch
from tests.support.served_app import ServerProcess


def go_offline(page: Page, server: ServerProcess) -> None:
    server.stop()
    page.context.set_offline(True)


def test_online_call_reaches_the_workspace(page: Page, server: ServerProcess, console: ConsoleWatch) -> None:
    open_with_workspace_tools(page, server.url)
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Tunnel notes", "body": "Signal lost at km 12."}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-ok")
    expect(result_box(page)).to_contain_text("Tunnel notes")
    assert notes_in(server.db_path, "Tunnel notes") == 1
    # Structured results with rows render as a table.
    open_tool(page, "Workspace", "List notes")
    run_tool(page, {}, approval="Always allow")
    expect(result_box(page).locator("table td", has_text="Tunnel notes")).to_be_visible()
    assert console.errors == [] and console.csp_violations() == []


def test_offline_save_note_is_queued_and_delivered_exactly_once_after_an_interrupted_flush(
    page: Page, context: BrowserContext, server: ServerProcess, console: ConsoleWatch
) -> None:
    spy = ToolCallSpy(drop_answers=1)
    context.route("**/mcp/workspace", spy.handle)
    open_with_workspace_tools(page, server.url)
    go_offline(page, server)
    expect(page.locator("#network-status")).to_have_text("Offline")

    open_tool(page, "Workspace", "Save a note")
    run_tool(
        page, {"title": "Queued in the tunnel", "body": "Written with no signal."}, approval="Allow once"
    )
    expect(result_box(page)).to_have_class("result result-queued")
    expect(result_box(page)).to_contain_text("Queued: save_note will be sent")
    expect(page.locator("#outbox-counts")).to_have_text("1 pending · 0 sent · 0 failed")
    assert spy.calls == []

    server.start()
    context.set_offline(False)
    # The first send reaches the server but its answer is lost; the retry carries the same key.
    expect(page.locator("#outbox-counts")).to_have_text("0 pending · 1 sent · 0 failed")
    assert spy.names() == ["save_note", "save_note"]
    keys = {str(call["_meta"]["io.satchel/idempotency-key"]) for call in spy.calls}  # type: ignore[index]
    assert len(keys) == 1
    assert notes_in(server.db_path, "Queued in the tunnel") == 1
    expect(page.locator("#outbox-list [data-status='sent']")).to_contain_text("save_note")
    assert console.errors == [] and console.csp_violations() == []


def release_sign_in(page: Page, server_name: str) -> None:
    """What the page does once the user has signed in to a server: the service worker sends its held calls."""
    page.evaluate(
        """async (server) => {
            const { askServiceWorker } = await import("/page/sw-client.js");
            await askServiceWorker("release-signin", { server });
        }""",
        server_name,
    )


def queue_offline_then_reconnect(
    page: Page, context: BrowserContext, server: ServerProcess, spy: ToolCallSpy, fields: dict[str, str]
) -> None:
    """Save a note while the workspace is out of reach (it is queued), then bring the network back; `spy` sees, and
    may refuse, every call that reaches the workspace."""
    context.route("**/mcp/workspace", spy.handle)
    open_with_workspace_tools(page, server.url)
    go_offline(page, server)
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, fields, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-queued")
    server.start()
    context.set_offline(False)


def test_queued_call_refused_for_sign_in_waits_and_is_sent_once_after_sign_in(
    page: Page, context: BrowserContext, server: ServerProcess, console: ConsoleWatch
) -> None:
    spy = ToolCallSpy(refusal=(401, "sign in first"))
    queue_offline_then_reconnect(
        page, context, server, spy, {"title": "Behind a login", "body": "Queued before signing in."}
    )
    counts = page.locator("#outbox-counts")
    expect(counts).to_have_text("0 pending · 0 sent · 0 failed · 1 waiting for sign-in")
    waiting = page.locator("#outbox-list [data-server='io.satchel/workspace'] [data-status='signin']")
    expect(waiting.locator(".badge")).to_have_text("Sign-in needed")
    expect(waiting).to_contain_text("it will be sent once, after you sign in")

    spy.refusal = None  # signed in
    release_sign_in(page, "io.satchel/workspace")
    expect(counts).to_have_text("0 pending · 1 sent · 0 failed")
    assert notes_in(server.db_path, "Behind a login") == 1
    assert spy.names() == ["save_note", "save_note"]
    assert len({str(call["_meta"]["io.satchel/idempotency-key"]) for call in spy.calls}) == 1  # type: ignore[index]
    assert console.csp_violations() == []


def test_queued_call_the_server_forbids_fails_with_its_message_and_can_be_retried(
    page: Page, context: BrowserContext, server: ServerProcess
) -> None:
    spy = ToolCallSpy(refusal=(403, "not in this workspace"))
    queue_offline_then_reconnect(
        page, context, server, spy, {"title": "Forbidden at first", "body": "Then allowed."}
    )
    counts = page.locator("#outbox-counts")
    expect(counts).to_have_text("0 pending · 0 sent · 1 failed")
    failed = page.locator("#outbox-list [data-status='failed']")
    expect(failed.locator(".outbox-error")).to_have_text("HTTP 403: not in this workspace")
    assert notes_in(server.db_path, "Forbidden at first") == 0

    spy.refusal = None
    failed.get_by_role("button", name="Retry").click()
    expect(counts).to_have_text("0 pending · 1 sent · 0 failed")
    assert notes_in(server.db_path, "Forbidden at first") == 1


def test_tool_that_is_not_safe_to_replay_gets_a_clear_error_offline(
    page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    open_with_workspace_tools(page, server.url)
    go_offline(page, server)
    open_tool(page, "Workspace", "Search notes")
    run_tool(page, {"query": "tunnel"}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-error")
    expect(result_box(page)).to_contain_text(
        "search_notes needs the network: Workspace cannot be reached, and the call is not safe to send later"
    )
    expect(page.locator("#outbox-counts")).to_have_text("0 pending · 0 sent · 0 failed")
    assert console.csp_violations() == []


def test_invalid_input_is_refused_before_sending(
    page: Page, context: BrowserContext, server: ServerProcess
) -> None:
    spy = ToolCallSpy()
    context.route("**/mcp/workspace", spy.handle)
    open_with_workspace_tools(page, server.url)
    open_tool(page, "Workspace", "Delete a note")
    run_tool(page, {"note_id": "0"})
    field = page.locator("#tool-view [data-field='note_id']")
    expect(field.locator(".field-error")).not_to_be_empty()
    expect(page.locator("#approval-dialog")).to_be_hidden()
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Only a title"})
    expect(page.locator("#tool-view [data-field='body'] .field-error")).to_have_text("required")
    assert spy.calls == []


def test_denied_tool_never_reaches_its_server(
    page: Page, context: BrowserContext, server: ServerProcess
) -> None:
    spy = ToolCallSpy()
    context.route("**/mcp/workspace", spy.handle)
    open_with_workspace_tools(page, server.url)
    open_tool(page, "Workspace", "Delete a note")
    # Destructive: asks every time and offers no "always".
    page.locator("#tool-view [data-field='note_id'] input").fill("1")
    page.locator("#tool-view").get_by_role("button", name="Run").click()
    dialog = page.locator("#approval-dialog")
    expect(dialog).to_contain_text("This tool may change or delete data.")
    expect(dialog.get_by_role("button", name="Always allow")).to_be_hidden()
    dialog.get_by_role("button", name="Deny", exact=True).click()
    expect(result_box(page)).to_contain_text("You denied Delete a note; nothing was sent.")

    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Never sent", "body": "Denied for good."}, approval="Always deny")
    expect(result_box(page)).to_contain_text("nothing was sent")
    page.reload()  # the remembered denial holds after a reload, without asking
    open_with_workspace_tools(page, server.url)
    open_tool(page, "Workspace", "Save a note")
    expect(page.locator("#tool-view .approval-state")).to_contain_text("Always denied.")
    run_tool(page, {"title": "Never sent", "body": "Denied for good."})
    expect(page.locator("#approval-dialog")).to_be_hidden()
    expect(result_box(page)).to_contain_text("nothing was sent")
    assert spy.calls == []
    assert notes_in(server.db_path, "Never sent") == 0


def test_tool_list_renders_offline_from_the_mirror_after_a_reload(
    page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    open_with_workspace_tools(page, server.url)
    go_offline(page, server)
    page.reload()
    for label in ("Save a note", "List notes", "Search notes", "Delete a note"):
        expect(tool_button(page, "Workspace", label)).to_be_visible()
    open_tool(page, "Workspace", "Save a note")
    expect(page.locator("#tool-view [data-field='title'] input")).to_be_visible()
    assert console.errors == [] and console.csp_violations() == []


def test_tools_with_invalid_schemas_are_hidden_with_a_reason(page: Page, server: ServerProcess) -> None:
    open_with_workspace_tools(page, server.url)
    screened = page.evaluate(
        """async () => {
            const { screenTools } = await import("/page/tool-schema.js");
            const good = { name: "ok", inputSchema: { type: "object", properties: { a: { type: "string" } } } };
            return screenTools([
              good,
              { name: "array_input", inputSchema: { type: "array" } },
              { name: "bad_required", inputSchema: { type: "object", properties: {}, required: ["x"] } },
              { name: "bad_type", inputSchema: { type: "object", properties: { a: { type: "text" } } } },
              { inputSchema: { type: "object" } },
            ]);
        }"""
    )
    assert [tool["name"] for tool in screened["shown"]] == ["ok"]
    reasons = {hidden["name"]: hidden["reason"] for hidden in screened["hidden"]}
    assert set(reasons) == {"array_input", "bad_required", "bad_type", "(unnamed)"}
    assert "requires x, which it does not define" in reasons["bad_required"]
    assert 'unknown type "text"' in reasons["bad_type"]


def test_bundled_registry_lists_the_workspace_with_its_remote(server: ServerProcess, tmp_path: Path) -> None:
    import httpx

    body = httpx.get(server.url + "/v0.1/servers").json()
    names = [entry["server"]["name"] for entry in body["servers"]]
    assert "io.satchel/workspace" in names
    workspace = next(e["server"] for e in body["servers"] if e["server"]["name"] == "io.satchel/workspace")
    assert workspace["remotes"] == [{"type": "streamable-http", "url": server.url + "/mcp/workspace"}]


def test_the_workspace_speaks_2026_07_28_stateless_remembered_and_shown(
    page: Page, context: BrowserContext, server: ServerProcess, console: ConsoleWatch
) -> None:
    """The workspace (Python SDK 2.x) speaks both eras: the app's `server/discover` probe finds 2026-07-28, the
    servers list says so, and after a reload the remembered verdict is given back, so no probe is sent again."""
    methods: list[str] = []

    def watch(route: Route) -> None:
        body = route.request.post_data or ""
        message = json.loads(body) if body.startswith("{") else {}
        methods.append(str(message.get("method")))
        route.continue_()

    context.route("**/mcp/workspace", watch)
    open_with_workspace_tools(page, server.url)
    protocol = page.locator("[data-server='io.satchel/workspace'] [data-fact='protocol']")
    expect(protocol).to_have_text("MCP 2026-07-28 (stateless)")
    expect(protocol).to_have_attribute("data-era", "modern")
    assert "server/discover" in methods and "initialize" not in methods

    methods.clear()
    page.reload()
    expect(protocol).to_have_text("MCP 2026-07-28 (stateless)")
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Stateless", "body": "No session."}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-ok")
    assert notes_in(server.db_path, "Stateless") == 1
    assert "tools/call" in methods and "server/discover" not in methods and "initialize" not in methods
    assert console.errors == [] and console.csp_violations() == []
