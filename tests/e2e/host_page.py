"""Driving the MCP host UI as a person does: pick a tool, fill its form, run it, answer the approval dialog."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.support.app_page import open_ready


def open_with_workspace_tools(page: Page, url: str) -> None:
    """Open the app and wait until it is ready offline and the mirror lists the workspace tools."""
    open_ready(page, url)
    expect(tool_button(page, "Workspace", "Save a note")).to_be_visible()


def tool_button(page: Page, server_title: str, tool_label: str):  # type: ignore[no-untyped-def]
    server = page.locator("#server-list > li").filter(has=page.get_by_role("heading", name=server_title))
    return server.get_by_role("button", name=tool_label, exact=True)


def open_tool(page: Page, server_title: str, tool_label: str) -> None:
    tool_button(page, server_title, tool_label).click()
    expect(page.locator("#tool-view .tool-title")).to_have_text(tool_label)


def run_tool(page: Page, fields: dict[str, str], approval: str | None = None) -> None:
    """Fill the open tool's form, press Run and answer the approval dialog with the button named `approval`."""
    for name, value in fields.items():
        page.locator(f"#tool-view [data-field='{name}'] :is(input, textarea, select)").fill(value)
    page.locator("#tool-view").get_by_role("button", name="Run").click()
    if approval is not None:
        dialog = page.locator("#approval-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name=approval, exact=True).click()


def result_box(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#tool-view .result")


def notes_in(db_path: Path, title: str) -> int:
    with sqlite3.connect(db_path) as db:
        count: int = db.execute("SELECT count(*) FROM notes WHERE title = ?", (title,)).fetchone()[0]
        return count


@dataclass
class ToolCallSpy:
    """Sees every tools/call the service worker sends to the workspace; can make one look lost in transit, or answer
    for the workspace with an HTTP refusal (`refusal`: status and body) while it is set."""

    calls: list[dict[str, object]] = field(default_factory=list)
    drop_answers: int = 0
    refusal: tuple[int, str] | None = None

    def handle(self, route: Route) -> None:
        body = route.request.post_data or ""
        message = json.loads(body) if body.startswith("{") else {}
        if message.get("method") != "tools/call":
            route.continue_()
            return
        self.calls.append(message["params"])
        if self.refusal is not None:
            status, text = self.refusal
            route.fulfill(status=status, body=text, content_type="text/plain")
            return
        if self.drop_answers > 0:
            self.drop_answers -= 1
            route.fetch()  # the server receives and handles the call ...
            route.abort("connectionreset")  # ... but its answer never reaches the service worker
            return
        route.continue_()

    def names(self) -> list[object]:
        return [call["name"] for call in self.calls]
