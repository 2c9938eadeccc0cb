"""Fixtures for the browser tests: Debian's Chromium, and a freshly built app served by a real `satchel serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.harness import BuiltSite, ConsoleWatch, ServerProcess


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
