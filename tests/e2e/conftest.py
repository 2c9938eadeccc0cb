"""Fixtures for the browser tests: Debian's Chromium, and a freshly built app served by a real `satchel serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, BuiltSite, ConsoleWatch, ServerProcess


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def site(tmp_path: Path) -> BuiltSite:
    built = BuiltSite(tmp_path)
    built.build()
    return built


@pytest.fixture
def server(site: BuiltSite, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(site.dist_dir, tmp_path / "server.log", tmp_path / "workspace.db")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def console(page: Page) -> ConsoleWatch:
    return ConsoleWatch(page)
