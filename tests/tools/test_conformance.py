"""Conformance: the official MCP Python client (``mcp`` 2.3) launches ``python -m satchel.tools`` over stdio,
negotiates, lists the tools and calls each one — once in the 2026 stateless era (``server/discover``, the client's
default) and once through the 2025-11-25 ``initialize`` handshake (``mode="legacy"``). The client validates every
structured result against the tool's outputSchema itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]

CALLS: dict[str, tuple[dict[str, Any], str, Any]] = {
    "redact": (
        {"text": "Mail ann@example.org or call +44 20 7946 0958.", "keep_last": 2},
        "text",
        "Mail [EMAIL] or call [PHONE …58].",
    ),
    "summarize_extractive": (
        {"text": "Solar farms grow. Solar farms need land. Cats sleep a lot.", "sentence_count": 1},
        "summary",
        "Solar farms grow.",
    ),
    "text_stats": ({"text": "Der Hund und die Katze sind nicht im Haus."}, "words", 9),
    "csv_query": (
        {"csv_text": "a,b\n1,x\n2,y\n", "query": "SELECT sum(a) AS total FROM data"},
        "rows",
        [[3]],
    ),
    "date_math": ({"operation": "add", "start": "2024-01-31", "duration": "P1M"}, "result", "2024-02-29"),
    "json_patch": (
        {"document": {"a": 1}, "patch": [{"op": "replace", "path": "/a", "value": 2}]},
        "document",
        {"a": 2},
    ),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def server_parameters() -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "satchel.tools"],
        env={"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        cwd=str(ROOT),
    )


async def exercise(client: Client) -> None:
    listed = await client.list_tools()
    assert [tool.name for tool in listed.tools] == list(CALLS)
    for tool in listed.tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
    for name, (arguments, field, expected) in CALLS.items():
        result = await client.call_tool(name, arguments)
        assert result.is_error is False, result.content
        assert result.structured_content is not None and result.structured_content[field] == expected, name
    failure = await client.call_tool("csv_query", {"csv_text": "a\n1\n", "query": "DROP TABLE data"})
    assert failure.is_error is True


@pytest.mark.anyio
async def test_official_client_in_the_2026_era() -> None:
    async with Client(server_parameters()) as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_info is not None and client.server_info.name == "satchel-tools"
        await exercise(client)
        updates: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            updates.append((progress, total, message))

        result = await client.call_tool("redact", {"text": "x@example.com"}, progress_callback=on_progress)
        assert result.is_error is False
        assert len(updates) == 7 and updates[-1][:2] == (7, 7)


@pytest.mark.anyio
async def test_official_client_through_the_initialize_handshake() -> None:
    async with Client(server_parameters(), mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        assert client.server_info is not None and client.server_info.name == "satchel-tools"
        assert client.instructions is not None and "offline" in client.instructions
        await exercise(client)
