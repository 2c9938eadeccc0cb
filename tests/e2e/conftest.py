"""Fixtures for the browser tests: Debian's Chromium, and a freshly built app served by a real `satchel serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.wasm_site import WasmSite, build_wasm_site
from tests.support.browser import STATE_TIMEOUT_MS, ConsoleWatch
from tests.support.served_app import BuiltSite, ServerProcess


@pytest.fixture(autouse=True)
def state_timeouts(request: pytest.FixtureRequest) -> None:
    """Actions (a click waits for its button to be enabled) wait for their state as long as `expect` does."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(STATE_TIMEOUT_MS)


@pytest.fixture
def site(tmp_path: Path) -> BuiltSite:
    built = BuiltSite(tmp_path)
    built.build()
    return built


def _serve(dist: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        dist, tmp_path / "server.log", tmp_path / "workspace.db", anonymous_workspace=True
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def server(site: BuiltSite, tmp_path: Path) -> Iterator[ServerProcess]:
    yield from _serve(site.dist_dir, tmp_path)


@pytest.fixture
def relaying_server(site: BuiltSite, tmp_path: Path) -> Iterator[ServerProcess]:
    """The app served with its relay allowed to reach this machine: the remote servers tests start listen on
    127.0.0.1, which the relay refuses unless the operator allows private addresses."""
    process = ServerProcess(
        site.dist_dir,
        tmp_path / "server.log",
        tmp_path / "workspace.db",
        anonymous_workspace=True,
        extra_args=("--relay-allow-private",),
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def console(page: Page) -> ConsoleWatch:
    return ConsoleWatch(page)


@pytest.fixture(scope="session")
def wasm_site(tmp_path_factory: pytest.TempPathFactory) -> WasmSite:
    """The app with both WASM servers and their tiny models, built once per session; tests must not change it."""
    return build_wasm_site(tmp_path_factory.mktemp("wasm-site"))


@pytest.fixture
def served(wasm_site: WasmSite, tmp_path: Path) -> Iterator[ServerProcess]:
    """`wasm_site` served by a real `satchel serve` of its own."""
    yield from _serve(wasm_site.dist, tmp_path)
