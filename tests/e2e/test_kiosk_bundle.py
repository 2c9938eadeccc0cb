"""A kiosk bundle served by a real nginx (no Satchel process): it installs, and its managed policy is enforced —
denied tools are absent and refused by the router even when called directly, locked settings cannot be changed, and
a bundle whose policy is missing or malformed refuses to start with a clear message."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserType, Locator, Page, expect

from satchel.policy import parse_policy_toml
from tests.bundle.conftest import bundle_into, spec_for_install
from tests.bundle.webservers import WebServer
from tests.e2e.host_page import result_box, run_tool
from tests.support.app_page import open_ready
from tests.support.browser import ConsoleWatch, persistent_profile
from tests.support.ports import free_port

KIOSK_POLICY = """
organization = "Riverside Clinic"
[servers]
allow = ["io.satchel/tools"]
[tools]
deny = ["io.satchel/tools:csv_query"]
always_ask = ["io.satchel/tools:text_stats"]
"""

#: Calls the router directly, as a page script could, bypassing the UI.
DIRECT_CALL = """async (name) => {
  const { connectClient, callToolRaw } = await import("/common/mcp-client.js");
  const client = await connectClient("/mcp/" + encodeURIComponent("io.satchel/tools"));
  try {
    return { result: await callToolRaw(client, { name, arguments: { csv: "a\\n1", query: "SELECT a FROM data" } }) };
  } catch (error) {
    return { code: error.code, message: error.message };
  } finally {
    await client.close();
  }
}"""


def serve_bundle(tmp_path: Path, app: Path, policy_toml: str) -> WebServer:
    port = free_port()
    bundle = tmp_path / "bundle"
    url = f"http://localhost:{port}/"
    bundle_into(
        bundle, spec_for_install(parse_policy_toml(policy_toml), bundle, f"127.0.0.1:{port}", url), app
    )
    server = WebServer("nginx", bundle, port, tmp_path / "work")
    server.url = url.rstrip("/")
    return server


@pytest.fixture
def kiosk(tmp_path: Path, app_copy: Path) -> Iterator[WebServer]:
    server = serve_bundle(tmp_path, app_copy, KIOSK_POLICY)
    server.start()
    yield server
    server.stop()


def local_tools(page: Page) -> Locator:
    return page.locator("#server-list > li[data-server='io.satchel/tools']")


def test_kiosk_installs_and_enforces_its_policy(
    browser_type: BrowserType, kiosk: WebServer, tmp_path: Path
) -> None:
    context, page = persistent_profile(browser_type, tmp_path / "profile")
    try:
        console = ConsoleWatch(page)
        open_ready(page, kiosk.url + "/")
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        expect(page.locator("#managed-status")).to_have_text("Managed by Riverside Clinic")

        # The denied tool is not offered; the others are.
        expect(local_tools(page).locator("[data-tool='text_stats']")).to_be_visible()
        expect(local_tools(page).locator("[data-tool='redact']")).to_be_visible()
        expect(local_tools(page).locator("[data-tool='csv_query']")).to_have_count(0)

        # ... and the router refuses it even when called directly.
        refused = page.evaluate(DIRECT_CALL, "csv_query")
        assert refused["code"] == -32011
        assert "csv_query of io.satchel/tools is blocked by Riverside Clinic's policy" in refused["message"]

        # A locked setting: the policy says text_stats asks every time, and the user cannot make it "always allow".
        expect(
            page.locator("#registry-error")
        ).to_be_empty()  # no registry API on a static host is not an error
        local_tools(page).locator("[data-tool='text_stats']").click()
        expect(page.locator("#tool-view .approval-state")).to_contain_text("Managed by your organisation")
        run_tool(page, {"text": "The kiosk is managed. It asks every time."})
        dialog = page.locator("#approval-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("button", name="Always allow")).to_be_hidden()
        dialog.get_by_role("button", name="Allow once").click()
        expect(result_box(page)).to_have_class("result result-ok")
        run_tool(page, {"text": "Asked again."})
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Deny", exact=True).click()
        assert console.csp_violations() == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.unlink(), "/policy.json is missing"),
        (lambda p: p.write_text("{ not json"), "/policy.json is not valid JSON"),
        (lambda p: p.write_text(json.dumps({"version": 2})), "/policy.json is malformed: version must be 1"),
    ],
    ids=["missing", "not-json", "wrong-version"],
)
def test_bundle_with_a_broken_policy_refuses_to_start_and_says_why(
    page: Page, tmp_path: Path, app_copy: Path, damage: Callable[[Path], object], message: str
) -> None:
    server = serve_bundle(tmp_path, app_copy, KIOSK_POLICY)
    damage(server.bundle_dir / "dist/policy.json")
    server.start()
    try:
        page.goto(server.url + "/")
        error = page.locator("#policy-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("Satchel cannot start")
        expect(error).to_contain_text(message)
        expect(page.locator("#main")).to_be_hidden()
    finally:
        server.stop()
