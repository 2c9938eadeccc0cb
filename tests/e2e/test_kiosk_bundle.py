"""A kiosk bundle served by a real nginx (no Satchel process): it installs, and its managed policy is enforced —
denied tools are absent and refused by the router even when called directly, locked settings cannot be changed, a
policy rewritten in Cache Storage by a page script is not used when the service worker starts again, and a bundle
whose policy is missing or malformed refuses to start with a clear message."""

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
from tests.support.app_page import open_ready, restart_service_worker
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


#: A page script rewrites the precached /policy.json (the Cache API is open to every script of the origin).
LIFT_POLICY = """async (policy) => {
  const name = (await caches.keys()).find((key) => key.startsWith("satchel-precache-"));
  const cache = await caches.open(name);
  const original = await (await cache.match("/policy.json")).text();
  const headers = { "Content-Type": "application/json" };
  await cache.put("/policy.json", new Response(JSON.stringify(policy), { headers }));
  return original;
}"""
#: DIRECT_CALL, answering a refused handshake (the whole server refused) as a refusal too.
GUARDED_CALL = f"""async (name) => {{
  try {{ return await ({DIRECT_CALL})(name); }}
  catch (error) {{ return {{ code: error.code, message: error.message }}; }}
}}"""
STORED_POLICY = """async () => {
  const name = (await caches.keys()).find((key) => key.startsWith("satchel-precache-"));
  return (await (await caches.open(name)).match("/policy.json")).text();
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


def test_a_policy_rewritten_in_cache_storage_is_not_used_when_the_service_worker_starts_again(
    page: Page, kiosk: WebServer
) -> None:
    open_ready(page, kiosk.url + "/")
    assert "result" in page.evaluate(
        DIRECT_CALL, "redact"
    )  # the tools' worker is up: only the policy decides below
    lifted = {"version": 1, "organization": "Riverside Clinic"}  # no servers.allow, no tools.deny
    original = page.evaluate(LIFT_POLICY, lifted)
    restart_service_worker(page)

    # The new worker checks the stored policy against the sha256 compiled into sw.js, fetches the build's own again,
    # and puts it back: the denied tool stays denied.
    refused = page.evaluate(DIRECT_CALL, "csv_query")
    assert refused.get("code") == -32011, refused
    assert "csv_query of io.satchel/tools is blocked by Riverside Clinic's policy" in refused["message"]
    assert page.evaluate(STORED_POLICY) == original

    # Rewritten again while the site cannot be reached: no policy that matches, so nothing runs at all.
    page.evaluate(LIFT_POLICY, lifted)
    kiosk.stop()
    restart_service_worker(page)
    for tool in ("csv_query", "text_stats"):
        refused = page.evaluate(GUARDED_CALL, tool)
        assert refused.get("code") == -32011, refused
        assert "its policy cannot be used: /policy.json is missing" in refused["message"]


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
