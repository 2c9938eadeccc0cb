"""A kiosk whose workspace server (`satchel serve`, behind nginx's `/v0.1/` proxy) also merges an upstream registry:
the servers it lists reach the app only when the managed policy turns upstream registries on; the site's own
servers (bundled local ones, the workspace) are there either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from playwright.sync_api import Page, expect

from satchel.bundle import BundleSpec
from satchel.policy import parse_policy_toml
from tests.bundle.conftest import bundle_into
from tests.bundle.webservers import KioskDevice
from tests.e2e.host_page import tool_button
from tests.support.app_page import open_controlled
from tests.support.registry_entries import serve_registry, upstream_entry

UPSTREAM_SERVER = upstream_entry(
    "org.example/maps",
    "1.0.0",
    title="Maps",
    remotes=[{"type": "streamable-http", "url": "https://maps.example.org/mcp"}],
)
MIRRORED_NAMES = """async () => {
  const { listServers } = await import("/common/mirror.js");
  return (await listServers()).map((entry) => entry.name);
}"""


@pytest.fixture
def upstream_registry() -> Iterator[str]:
    """An MCP registry on another host listing one remote server."""
    with serve_registry([UPSTREAM_SERVER]) as url:
        yield url


@pytest.mark.parametrize("allowed", [False, True], ids=["upstream-off", "upstream-on"])
def test_upstream_registry_servers_reach_the_app_only_when_the_policy_allows(
    page: Page, tmp_path: Path, app_copy: Path, upstream_registry: str, allowed: bool
) -> None:
    device = KioskDevice(tmp_path / "device")
    workspace = device.workspace(tmp_path, upstreams=[upstream_registry])
    policy = parse_policy_toml(
        f'organization = "Riverside Clinic"\nupstream_registries = {str(allowed).lower()}\n'
    )
    spec = BundleSpec(
        policy=policy,
        url=device.url + "/",
        listen=device.listen,
        install_dir=PurePosixPath(device.install_dir),
        api_upstream=workspace.url,
    )
    bundle_into(tmp_path / "bundle", spec, app_copy)
    device.install(tmp_path / "bundle")
    workspace.start()
    device.start()
    try:
        open_controlled(page, device.url + "/")
        expect(tool_button(page, "Workspace", "Save a note")).to_be_visible()
        names = set(page.evaluate(MIRRORED_NAMES))
        assert {"io.satchel/tools", "io.satchel/workspace"} <= names
        assert ("org.example/maps" in names) is allowed
        maps = page.locator("#server-list > li").filter(has=page.get_by_role("heading", name="Maps"))
        expect(maps).to_have_count(1 if allowed else 0)
    finally:
        workspace.stop()
        device.stop()
