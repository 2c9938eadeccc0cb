"""Fixtures shared by the Python tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """A private copy of the app sources that a test may change."""
    target = tmp_path / "app"
    shutil.copytree(REPO / "app", target)
    return target
