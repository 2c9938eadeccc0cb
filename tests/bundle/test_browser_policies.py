"""Browser policies generated for the bundle's URL parse in each platform's format and say the same thing."""

from __future__ import annotations

import json
import plistlib
import re
import uuid
from pathlib import Path
from typing import Any

from satchel.bundle import BundleSpec
from satchel.bundle.browser_policies import macos_mobileconfig
from satchel.bundle.spec import linux_policy_paths
from tests.bundle.conftest import URL

EXPECTED: dict[str, Any] = {
    "WebAppInstallForceList": [
        {"url": URL, "default_launch_container": "window", "create_desktop_shortcut": True}
    ],
    "AudioCaptureAllowedUrls": ["https://satchel.example.org"],
    # A kiosk user with DevTools could run script in the app's origin (rewrite its caches, call tools directly).
    "DeveloperToolsAvailability": 2,
}


def test_linux_policy_files_for_chromium_chrome_and_edge(bundle_dir: Path) -> None:
    paths = linux_policy_paths()
    assert sorted(paths.values()) == [
        "browser/linux/etc/chromium/policies/managed/satchel.json",
        "browser/linux/etc/opt/chrome/policies/managed/satchel.json",
        "browser/linux/etc/opt/edge/policies/managed/satchel.json",
    ]
    for path in paths.values():
        assert json.loads((bundle_dir / path).read_text()) == EXPECTED


def parse_reg(data: bytes) -> dict[str, dict[str, str | int]]:
    """A .reg parser for what regedit needs from us: keys, deleted keys, "name"="string" and "name"=dword:hex
    values."""
    assert data.startswith(b"\xff\xfe"), "regedit expects UTF-16 LE with a BOM"
    lines = data[2:].decode("utf-16-le").split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    keys: dict[str, dict[str, str | int]] = {}
    current: dict[str, str | int] | None = None
    value_line = re.compile(r'^"((?:[^"\\]|\\.)*)"="((?:[^"\\]|\\.)*)"$')
    dword_line = re.compile(r'^"((?:[^"\\]|\\.)*)"=dword:([0-9a-f]{8})$')
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("[-"):
            keys.pop(line[2:-1], None)
            current = None
        elif line.startswith("["):
            assert line.endswith("]"), line
            current = keys.setdefault(line[1:-1], {})
        elif dword := dword_line.match(line):
            assert current is not None, line
            current[dword.group(1)] = int(dword.group(2), 16)
        else:
            match = value_line.match(line)
            assert match is not None and current is not None, f"not a string or DWORD value: {line!r}"
            name, value = (re.sub(r"\\(.)", r"\1", part) for part in match.groups())
            current[name] = value
    return keys


def test_windows_reg_sets_every_policy_for_each_browser(bundle_dir: Path) -> None:
    keys = parse_reg((bundle_dir / "browser/windows/satchel-policies.reg").read_bytes())
    for browser in (r"Google\Chrome", "Chromium", r"Microsoft\Edge"):
        key = rf"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\{browser}"
        assert json.loads(str(keys[key]["WebAppInstallForceList"])) == EXPECTED["WebAppInstallForceList"]
        assert keys[key + r"\AudioCaptureAllowedUrls"] == {"1": "https://satchel.example.org"}
        assert keys[key]["DeveloperToolsAvailability"] == 2  # a REG_DWORD, as the policy's type is an integer


def test_macos_profile_has_one_payload_per_browser_with_stable_uuids(
    bundle_dir: Path, spec: BundleSpec
) -> None:
    profile = plistlib.loads((bundle_dir / "browser/macos/satchel.mobileconfig").read_bytes())
    assert profile["PayloadType"] == "Configuration" and profile["PayloadOrganization"] == "Riverside Clinic"
    domains = [payload["PayloadType"] for payload in profile["PayloadContent"]]
    assert domains == ["com.google.Chrome", "org.chromium.Chromium", "com.microsoft.Edge"]
    uuids = {profile["PayloadUUID"], *(payload["PayloadUUID"] for payload in profile["PayloadContent"])}
    assert len(uuids) == 4 and all(uuid.UUID(value).version == 5 for value in uuids)
    for payload in profile["PayloadContent"]:
        assert {key: payload[key] for key in EXPECTED} == EXPECTED
        assert payload["PayloadIdentifier"].startswith(profile["PayloadIdentifier"] + ".")
    # Same URL, same profile identity (MDM replaces instead of duplicating); another URL, another one.
    assert macos_mobileconfig(spec) == (bundle_dir / "browser/macos/satchel.mobileconfig").read_bytes()
    other = plistlib.loads(macos_mobileconfig(BundleSpec(policy=spec.policy, url="https://other.example/")))
    assert other["PayloadUUID"] != profile["PayloadUUID"]


def test_kiosk_launcher_opens_the_url_as_a_kiosk_app(bundle_dir: Path) -> None:
    script = (bundle_dir / "browser/kiosk/satchel-kiosk.sh").read_text()
    assert script.startswith("#!/bin/sh\n")
    assert f'url="${{SATCHEL_URL:-{URL}}}"' in script
    assert "--kiosk" in script and '--app="$url"' in script and "--no-first-run" in script
    assert (bundle_dir / "browser/kiosk/satchel-kiosk.sh").stat().st_mode & 0o111
