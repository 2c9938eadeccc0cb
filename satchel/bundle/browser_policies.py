"""Chrome, Chromium and Edge enterprise policies for the bundle's URL, in each platform's own format.

The same policies everywhere: `WebAppInstallForceList` installs the app in its own window with a desktop
shortcut, `AudioCaptureAllowedUrls` lets the app's origin use the microphone (dictation) without a prompt, and
`DeveloperToolsAvailability` 2 (disallowed) takes DevTools away from a kiosk's users, who could otherwise run script
in the app's origin: rewrite its Cache Storage and IndexedDB, or call tools around the UI.
Linux reads JSON files from each browser's managed-policy folder, Windows the registry (a `.reg` file: numbers as
DWORDs, lists as numbered values, dictionaries as a JSON string), macOS a configuration profile with one payload per
browser.
A single-app kiosk also gets a launcher script.
"""

from __future__ import annotations

import json
import plistlib
import shlex
import uuid
from typing import Any

from satchel import __version__
from satchel.bundle.spec import BundleSpec

#: The registry key and the macOS preference domain of each browser.
WINDOWS_KEYS = {
    "Google Chrome": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome",
    "Chromium": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Chromium",
    "Microsoft Edge": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Edge",
}
MACOS_DOMAINS = {
    "Google Chrome": "com.google.Chrome",
    "Chromium": "org.chromium.Chromium",
    "Microsoft Edge": "com.microsoft.Edge",
}
#: Flags for a single-app kiosk: full screen on the app, no first-run or crash bubbles, no translate or
#: swipe-to-go-back that a visitor could trip over.
KIOSK_FLAGS = (
    "--kiosk",
    "--no-first-run",
    "--noerrdialogs",
    "--disable-session-crashed-bubble",
    "--disable-infobars",
    "--disable-translate",
    "--disable-features=Translate",
    "--disable-pinch",
    "--overscroll-history-navigation=0",
    "--check-for-update-interval=31536000",
)
KIOSK_BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
    "microsoft-edge-stable",
)


#: `DeveloperToolsAvailability`: 0 allowed except for force-installed extensions, 1 allowed, 2 disallowed.
DEVELOPER_TOOLS_DISALLOWED = 2


def browser_policies(spec: BundleSpec) -> dict[str, Any]:
    """The policy values, as Chrome documents them (one dictionary for every browser and platform)."""
    return {
        "WebAppInstallForceList": [
            {"url": spec.url, "default_launch_container": "window", "create_desktop_shortcut": True}
        ],
        "AudioCaptureAllowedUrls": [spec.origin],
        "DeveloperToolsAvailability": DEVELOPER_TOOLS_DISALLOWED,
    }


def linux_policy_json(spec: BundleSpec) -> bytes:
    return (json.dumps(browser_policies(spec), indent=2) + "\n").encode()


def _reg_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def windows_reg(spec: BundleSpec) -> bytes:
    """A `.reg` file for regedit (UTF-16 LE with BOM, CRLF, as regedit itself exports)."""
    lines = ["Windows Registry Editor Version 5.00", ""]
    policies = browser_policies(spec)
    string_lists = {name for name, value in policies.items() if _is_string_list(value)}
    for key in WINDOWS_KEYS.values():
        lines.append(f"[{key}]")
        for name, value in policies.items():
            if name in string_lists:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                lines.append(f"{_reg_string(name)}=dword:{value:08x}")
            else:
                lines.append(f"{_reg_string(name)}={_reg_string(json.dumps(value, separators=(',', ':')))}")
        lines.append("")
        for name, value in policies.items():
            if name in string_lists:
                # A list policy is a subkey with values "1", "2", … (replaced wholesale: delete it first).
                lines += [f"[-{key}\\{name}]", "", f"[{key}\\{name}]"]
                lines += [f"{_reg_string(str(n))}={_reg_string(item)}" for n, item in enumerate(value, 1)]
                lines.append("")
    return "\ufeff".encode("utf-16-le") + "\r\n".join(lines).encode("utf-16-le")


def _uuid(spec: BundleSpec, what: str) -> str:
    # Derived from the URL: regenerating the profile for the same URL replaces the installed one instead of
    # adding a second, and the bundle stays byte-for-byte reproducible.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.url}#{what}")).upper()


def macos_mobileconfig(spec: BundleSpec) -> bytes:
    identifier = "io.satchel.policies." + _uuid(spec, "profile").lower()
    payloads = [
        {
            "PayloadType": domain,
            "PayloadVersion": 1,
            "PayloadIdentifier": f"{identifier}.{domain}",
            "PayloadUUID": _uuid(spec, domain),
            "PayloadDisplayName": f"Satchel policies for {browser}",
            "PayloadEnabled": True,
            **browser_policies(spec),
        }
        for browser, domain in MACOS_DOMAINS.items()
    ]
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": _uuid(spec, "profile"),
        "PayloadDisplayName": f"Satchel for {spec.policy.organization}",
        "PayloadDescription": f"Installs Satchel ({spec.url}), allows it the microphone and turns DevTools off.",
        "PayloadOrganization": spec.policy.organization,
        "PayloadScope": "System",
        "PayloadContent": payloads,
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def kiosk_launcher(spec: BundleSpec) -> bytes:
    flags = " \\\n    ".join(shlex.quote(flag) for flag in KIOSK_FLAGS)
    return f"""#!/bin/sh
# Generated by satchel bundle {__version__}: runs Satchel ({spec.url}) as a single-app kiosk.
# Start it from the kiosk user's session (autostart); SATCHEL_URL overrides the address.
set -eu
url="${{SATCHEL_URL:-{spec.url}}}"
for browser in {" ".join(KIOSK_BROWSERS)}; do
  if command -v "$browser" >/dev/null 2>&1; then
    exec "$browser" \\
    {flags} \\
    --app="$url" "$@"
  fi
done
echo "satchel-kiosk: no Chromium, Chrome or Edge found (install chromium)" >&2
exit 1
""".encode()
