"""The bundle's Linux browser policy, read by a real Chromium: every policy shows in chrome://policy as applied
(status OK, the value we wrote), with no unknown-policy or validation error; and DevTools are off: with the whole
file, the DevTools protocol refuses to inspect a page.

Each Chromium gets its own copy of /etc/chromium mounted over the real one in a private mount namespace, so the
policies apply to it alone, never to the other browsers running on the machine meanwhile."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType, Page
from playwright.sync_api import Error as PlaywrightError

from satchel.bundle import BundleSpec
from satchel.bundle.browser_policies import DEVELOPER_TOOLS_DISALLOWED
from satchel.bundle.spec import linux_policy_paths
from satchel.policy import parse_policy_toml
from tests.bundle.conftest import RIVERSIDE_TOML, URL, bundle_into
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, poll

#: Chromium reads managed policies from POLICY_ROOT/policies/managed (Linux); its other files there are kept.
POLICY_ROOT = Path("/etc/chromium")
#: Chromium in its own mount namespace, with a private copy of POLICY_ROOT mounted over the real one.
WRAPPER = """#!/bin/sh
exec unshare --mount sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' {private} {root} {chromium} "$@"
"""
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
def generated_policy(tmp_path: Path, app_copy: Path) -> dict[str, Any]:
    """The bundle's Chromium policy file, parsed."""
    bundle_into(tmp_path / "bundle", BundleSpec(policy=parse_policy_toml(RIVERSIDE_TOML), url=URL), app_copy)
    policies: dict[str, Any] = json.loads(
        (tmp_path / "bundle" / linux_policy_paths()["Chromium"]).read_bytes()
    )
    return policies


@pytest.fixture
def chromium_with(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Make a Chromium executable (a wrapper script) that reads `policies` as its managed policy, and only that."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or not POLICY_ROOT.is_dir():
        pytest.skip(f"a private {POLICY_ROOT} needs root, unshare (util-linux) and that folder")

    def make(policies: dict[str, Any]) -> Path:
        folder = tmp_path / f"chromium-{len(list(tmp_path.glob('chromium-*')))}"
        private = folder / "etc-chromium"
        shutil.copytree(POLICY_ROOT, private)
        managed = private / "policies" / "managed"
        managed.mkdir(parents=True, exist_ok=True)
        (managed / "satchel.json").write_text(json.dumps(policies))
        wrapper = folder / "chromium"
        quoted = {
            name: shlex.quote(str(path)) for name, path in (("root", POLICY_ROOT), ("private", private))
        }
        wrapper.write_text(WRAPPER.format(chromium=shlex.quote(CHROMIUM), **quoted))
        wrapper.chmod(0o755)
        return wrapper

    return make


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
    generated_policy: dict[str, Any],
    chromium_with: Callable[[dict[str, Any]], Path],
    browser_type: BrowserType,
) -> None:
    # DevTools off would keep this test from reading chrome://policy: that one is checked by its effect, below.
    policies = {k: v for k, v in generated_policy.items() if k != "DeveloperToolsAvailability"}
    browser = browser_type.launch(executable_path=chromium_with(policies), args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        page.goto("chrome://policy")
        rows = policy_rows(page, sorted(policies))
    finally:
        browser.close()
    for name, expected in policies.items():
        value, status, row = rows[name]
        assert value == expected, name
        assert status == "OK", (name, row)
        assert not any("Unknown policy" in text or "validation" in text.lower() for text in row), row


def test_the_generated_policy_takes_developer_tools_away(
    generated_policy: dict[str, Any],
    chromium_with: Callable[[dict[str, Any]], Path],
    browser_type: BrowserType,
) -> None:
    assert generated_policy["DeveloperToolsAvailability"] == DEVELOPER_TOOLS_DISALLOWED
    browser = browser_type.launch(executable_path=chromium_with(generated_policy), args=CHROMIUM_ARGS)
    try:
        # Playwright drives Chromium through the DevTools protocol, which this policy closes to every page.
        with pytest.raises(PlaywrightError):
            browser.new_page().goto("about:blank")
    finally:
        browser.close()
