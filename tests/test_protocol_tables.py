"""The protocol tables are written once per language and agree: the MCP versions and the JSON-RPC error codes of
the Python tools server (satchel/tools/), the C++ servers (wasm/mcp/) and the browser (app/common/protocol.js)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from satchel.tools import jsonrpc, protocol

REPO = Path(__file__).resolve().parents[1]
CPP_SERVER = REPO / "wasm" / "mcp" / "server.cpp"
CPP_HEADER = REPO / "wasm" / "mcp" / "server.hpp"

#: Python's name of each code → the browser's.
CODE_NAMES = {
    "PARSE_ERROR": "PARSE",
    "INVALID_REQUEST": "INVALID_REQUEST",
    "METHOD_NOT_FOUND": "METHOD_NOT_FOUND",
    "INVALID_PARAMS": "INVALID_PARAMS",
    "INTERNAL_ERROR": "INTERNAL",
    "UNSUPPORTED_PROTOCOL_VERSION": "UNSUPPORTED_PROTOCOL_VERSION",
}


@pytest.fixture(scope="module")
def browser_tables() -> dict[str, Any]:
    """What app/common/protocol.js exports, as node imports it."""
    script = (
        "const m = await import(process.argv[1]);"
        "console.log(JSON.stringify({handshake: m.HANDSHAKE_VERSIONS, modern: m.MODERN_VERSIONS, codes: m.RpcError}));"
    )
    module = (REPO / "app" / "common" / "protocol.js").as_uri()
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, module], capture_output=True, text=True, check=True
    )
    tables: dict[str, Any] = json.loads(done.stdout)
    return tables


def cpp_versions(name: str) -> list[str]:
    match = re.search(rf"{name} = \{{([^}}]*)\}};", CPP_SERVER.read_text())
    assert match, f"{name} not found in {CPP_SERVER}"
    return re.findall(r'"([^"]+)"', match.group(1))


def cpp_codes() -> dict[str, int]:
    return {
        name: int(code) for name, code in re.findall(r"constexpr int (\w+) = (-\d+);", CPP_HEADER.read_text())
    }


def test_every_side_speaks_the_same_protocol_versions(browser_tables: dict[str, Any]) -> None:
    assert (
        list(protocol.HANDSHAKE_VERSIONS) == cpp_versions("HANDSHAKE_VERSIONS") == browser_tables["handshake"]
    )
    assert list(protocol.MODERN_VERSIONS) == cpp_versions("MODERN_VERSIONS") == browser_tables["modern"]


def test_every_side_uses_the_same_error_codes(browser_tables: dict[str, Any]) -> None:
    python = {name: getattr(jsonrpc, name) for name in CODE_NAMES}
    assert cpp_codes() == python
    assert {name: browser_tables["codes"][CODE_NAMES[name]] for name in CODE_NAMES} == python
    # The browser's own codes (the router's answers) do not collide with the shared ones.
    assert len(set(browser_tables["codes"].values())) == len(browser_tables["codes"])


def test_the_workspace_refuses_by_policy_with_the_routers_code(browser_tables: dict[str, Any]) -> None:
    """The workspace (satchel/workspace/server.py) and the browser's router deny a call with the same code."""
    assert browser_tables["codes"]["DENIED_BY_POLICY"] == jsonrpc.DENIED_BY_POLICY
