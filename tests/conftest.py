"""Fixtures shared by the Python tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """A private copy of the app sources that a test may change."""
    target = tmp_path / "app"
    shutil.copytree(REPO / "app", target)
    return target


#: Fixtures of pytest-playwright: a test that uses one drives a browser.
BROWSER_FIXTURES = frozenset({"page", "context", "browser", "browser_type"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every browser test `e2e`: they run as their own pytest session (scripts/check.sh), because the sync
    Playwright session keeps an event loop running in the main thread, which asyncio-based tests cannot share."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium with the flags every browser test uses (tests/support/browser.py)."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
