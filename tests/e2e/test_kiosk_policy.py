"""The bundle's Linux browser policy, read by a real Chromium: every policy shows in chrome://policy as applied
(status OK, the value we wrote), with no unknown-policy or validation error."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType, Page

from satchel.bundle import BundleSpec
from satchel.bundle.spec import linux_policy_paths
from satchel.policy import parse_policy_toml
from tests.bundle.conftest import RIVERSIDE_TOML, URL, bundle_into
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, poll

MANAGED_DIR = Path("/etc/chromium/policies/managed")
#: chrome://policy renders its table in shadow roots: collect every text node, in order.
PAGE_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { const t = child.textContent.trim(); if (t) out.push(t); }
      else walk(child);
    }
  };
  walk(document.body);
  return out;
}"""


@pytest.fixture
def installed_policy(tmp_path: Path, app_copy: Path) -> Iterator[dict[str, Any]]:
    """The bundle's Chromium policy file copied into Chromium's managed folder, removed afterwards whatever happens."""
    bundle_into(tmp_path / "bundle", BundleSpec(policy=parse_policy_toml(RIVERSIDE_TOML), url=URL), app_copy)
    source = tmp_path / "bundle" / linux_policy_paths()["Chromium"]
    created = [folder for folder in (MANAGED_DIR.parent, MANAGED_DIR) if not folder.exists()]
    target = MANAGED_DIR / f"satchel-test-{uuid.uuid4().hex}.json"
    try:
        MANAGED_DIR.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        pytest.skip(f"writing {MANAGED_DIR} needs root")
    try:
        target.write_bytes(source.read_bytes())
        policies: dict[str, Any] = json.loads(source.read_bytes())
        yield policies
    finally:
        target.unlink(missing_ok=True)
        for folder in reversed(created):
            folder.rmdir()


def policy_rows(page: Page, names: list[str]) -> dict[str, tuple[Any, str, list[str]]]:
    """Policy name → (value shown, status, the row's messages) for each of `names`, read from chrome://policy."""
    texts: list[str] = poll(
        page,
        f"(() => {{ const t = ({PAGE_TEXT})(); return {json.dumps(names)}.every(n => t.includes(n)) && t; }})()",
    )
    rows = {}
    for name in names:
        start = texts.index(name)
        # Row: name | value | source | applies to | level | status | ...details... | next policy
        value, status = json.loads(texts[start + 1]), texts[start + 5]
        end = texts.index("Info", start)
        rows[name] = (value, status, texts[start:end])
    return rows


def test_chromium_applies_every_generated_policy_without_errors(
    installed_policy: dict[str, Any], browser_type: BrowserType
) -> None:
    browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        page.goto("chrome://policy")
        rows = policy_rows(page, sorted(installed_policy))
    finally:
        browser.close()
    for name, expected in installed_policy.items():
        value, status, row = rows[name]
        assert value == expected, name
        assert status == "OK", (name, row)
        assert not any("Unknown policy" in text or "validation" in text.lower() for text in row), row
