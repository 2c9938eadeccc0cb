"""The client command the official MCP conformance suite runs (`scripts/conformance-client URL`): the real app.

The suite starts a test server (and, for the auth scenarios, an authorization server), then runs this command with
the server's URL appended and the scenario in `MCP_CONFORMANCE_SCENARIO` (its data, such as pre-registered client
credentials, in `MCP_CONFORMANCE_CONTEXT`). Nothing here speaks MCP: it serves the built app with `satchel serve`,
opens it in headless Chromium and does what a person would — adds the server by its URL, signs in when the app asks
(entering a client ID where the scenario gives one), waits for the tools, and runs each one from its form, signing
in again when the app says a tool needs more permission. The app's own code does the protocol work: the service
worker's router and relay, the TypeScript SDK's client and OAuth flow.

The built site is `SATCHEL_CONFORMANCE_SITE` (tests/conformance/test_conformance.py builds it once per run); the
exit status is non-zero when the app could not list or call the tools, with what it showed on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.support.app_page import open_ready
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, STATE_TIMEOUT_MS
from tests.support.served_app import ServerProcess

#: The client_id the suite expects from a client that identifies itself by a Client ID Metadata Document. A real
#: deployment passes the https URL where it publishes the document; `satchel serve --oauth-client-id` says the same.
CIMD_CLIENT_ID = "https://conformance-test.local/client-metadata.json"
#: How many times the driver presses "Sign in again" for one tool: the app must stop offering it before that.
MAX_SIGN_INS_PER_TOOL = 5
#: Arguments for the tools the scenarios offer, by name; any other tool is run with its form left as it is.
TOOL_ARGUMENTS: dict[str, dict[str, str]] = {"add_numbers": {"a": "2", "b": "3"}}


class ClientFailed(Exception):
    """The app did not get through the scenario; the message says where it stopped and what it showed."""


def server_entry(page: Page, url: str) -> Locator:
    """The servers-list entry of the server the user added from `url` (the entry shows its origin)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    added = page.locator("#server-list > li[data-user-added='true']")
    return added.filter(has=page.locator("[data-fact='origin']", has_text=origin))


def add_server(page: Page, url: str) -> Locator:
    """Add a server by its URL in the servers panel, as a person does; returns its entry."""
    if not page.locator("#add-server details").evaluate("details => details.open"):
        page.locator("#add-server summary").click()
    page.get_by_label("Server URL").fill(url)
    page.get_by_label("Server URL").press("Enter")
    entry = server_entry(page, url)
    expect(entry).to_be_visible()
    return entry


def sign_in_if_asked(page: Page, entry: Locator, context: dict[str, Any]) -> None:
    """Press the entry's sign-in button if it shows one, with the scenario's client where it gives one."""
    controls = entry.locator("[data-sign-in]")
    state = controls.get_attribute("data-sign-in") if controls.count() else None
    if state not in ("needed",):
        return
    if context.get("client_id"):
        entry.get_by_text("Use a client ID you registered").click()
        entry.get_by_label("Client ID").fill(str(context["client_id"]))
        entry.get_by_label("Client secret (if any)").fill(str(context.get("client_secret") or ""))
        entry.get_by_role("button", name="Sign in with this client").click()
    else:
        entry.get_by_role("button", name="Sign in", exact=True).or_(
            entry.get_by_role("button", name="Sign in again", exact=True)
        ).click()
    expect(entry.locator("[data-sign-in='signed-in']")).to_be_visible()


#: What a server's entry says once the app has dealt with it: "sign-in" (it asks for one), "tools" (its list is
#: loaded, perhaps empty), "error" (it could not be listed), or "" (still working).
ENTRY_STATE = """(entry) => {
    if (entry.querySelector("[data-sign-in='needed']")) return "sign-in";
    if (entry.querySelector(".server-error")) return "error";
    const loading = [...entry.querySelectorAll(".empty-state")].some((p) => p.textContent.includes("not loaded"));
    const connected = entry.querySelector("[data-fact='protocol']")?.textContent.startsWith("MCP ");
    return connected && !loading ? "tools" : "";
}"""


def wait_for_tools_or_sign_in(page: Page, entry: Locator) -> str:
    """Wait until the entry lists its tools (perhaps none) or asks for a sign-in; fail on an error."""
    deadline = time.monotonic() + STATE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        state = entry.evaluate(ENTRY_STATE) if entry.count() else ""
        if state == "error":
            raise ClientFailed(
                f"the app could not list the tools: {entry.locator('.server-error').first.inner_text()}"
            )
        if state:
            return str(state)
        page.wait_for_timeout(100)
    raise ClientFailed(f"the server's entry never showed its tools or a sign-in: {entry.inner_text()}")


def run_tool(page: Page, entry: Locator, name: str, context: dict[str, Any]) -> None:
    for _ in range(MAX_SIGN_INS_PER_TOOL):
        entry.locator(f".tool-list button[data-tool='{name}']").click()
        form = page.locator(f"#tool-view form[data-tool='{name}']")
        expect(form).to_be_visible()
        for field, value in TOOL_ARGUMENTS.get(name, {}).items():
            form.locator(f"[data-field='{field}'] :is(input, textarea, select)").fill(value)
        form.get_by_role("button", name="Run").click()
        dialog = page.locator("#approval-dialog")
        result = page.locator("#tool-view .result")
        expect(dialog.or_(result)).to_be_visible()
        if dialog.is_visible():
            dialog.get_by_role("button", name="Allow once", exact=True).click()
        expect(result).to_be_visible()
        if (
            "needs more permission" not in result.inner_text()
            and "needs you to sign in" not in result.inner_text()
        ):
            if result.locator(".result-error").count():
                raise ClientFailed(f"{name} failed: {result.inner_text()}")
            return
        needed = entry.locator("[data-sign-in='needed']")
        refused = entry.locator("[data-sign-in='refused']")
        expect(needed.or_(refused)).to_be_visible()
        if refused.count():
            raise ClientFailed(f"{name}: the app stopped asking: {refused.inner_text()}")
        sign_in_if_asked(page, entry, context)
    raise ClientFailed(f"{name} still asked for a sign-in after {MAX_SIGN_INS_PER_TOOL} tries")


def drive(page: Page, app_url: str, server_url: str, context: dict[str, Any]) -> None:
    open_ready(page, app_url)
    entry = add_server(page, server_url)
    if wait_for_tools_or_sign_in(page, entry) == "sign-in":
        sign_in_if_asked(page, entry, context)
        if wait_for_tools_or_sign_in(page, entry) != "tools":
            raise ClientFailed("the app still asks for a sign-in after signing in")
    for name in entry.locator(".tool-list button").evaluate_all(
        "(buttons) => buttons.map((b) => b.dataset.tool)"
    ):
        run_tool(page, entry, name, context)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: conformance-client SERVER_URL (run by the MCP conformance suite)", file=sys.stderr)
        return 2
    server_url = argv[-1]
    site = os.environ.get("SATCHEL_CONFORMANCE_SITE")
    if not site or not (Path(site) / "index.html").is_file():
        print(
            "conformance-client: SATCHEL_CONFORMANCE_SITE must name a built app (satchel build)",
            file=sys.stderr,
        )
        return 2
    context: dict[str, Any] = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    with tempfile.TemporaryDirectory(prefix="satchel-conformance-") as scratch:
        work = Path(scratch)
        server = ServerProcess(
            Path(site),
            work / "serve.log",
            work / "workspace.db",
            anonymous_workspace=True,
            # The suite's servers listen on localhost, which the relay refuses unless the operator allows it.
            extra_args=("--relay-allow-private", "--oauth-client-id", CIMD_CLIENT_ID),
        )
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                page = browser.new_context().new_page()
                page.set_default_timeout(STATE_TIMEOUT_MS)
                try:
                    drive(page, server.url, server_url, context)
                except (ClientFailed, AssertionError) as exc:
                    print(f"conformance-client: {exc}", file=sys.stderr)
                    return 1
                finally:
                    browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
