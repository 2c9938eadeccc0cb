"""Fixtures for the tool-server tests: a fresh default server and a helper that calls one tool through it.

Every successful structured result is checked against the tool's published outputSchema with ``jsonschema``
(an independent validator), so a tool cannot drift from what ``tools/list`` promises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from satchel.tools import ToolServer, default_server

CallTool = Callable[..., dict[str, Any]]


@pytest.fixture
def server() -> ToolServer:
    return default_server()


@pytest.fixture
def call_tool(server: ToolServer) -> CallTool:
    """Call a tool through the server core and return the ``tools/call`` result (the last message)."""
    counter = iter(range(1, 1_000_000))

    def call(name: str, **arguments: Any) -> dict[str, Any]:
        messages = server.handle(
            {
                "jsonrpc": "2.0",
                "id": next(counter),
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
        )
        assert messages, f"{name} produced no response"
        final = messages[-1]
        assert "result" in final, final
        result: dict[str, Any] = final["result"]
        if not result["isError"]:
            definition = next(entry for entry in server.tools if entry.name == name)
            if definition.output_schema is not None:
                jsonschema.Draft202012Validator(definition.output_schema).validate(
                    result["structuredContent"]
                )
        return result

    return call


@pytest.fixture
def structured(call_tool: CallTool) -> CallTool:
    """Call a tool that must succeed and return its structured content."""

    def call(name: str, **arguments: Any) -> dict[str, Any]:
        result = call_tool(name, **arguments)
        assert result["isError"] is False, result["content"][0]["text"]
        content: dict[str, Any] = result["structuredContent"]
        return content

    return call


@pytest.fixture
def tool_error(call_tool: CallTool) -> Callable[..., str]:
    """Call a tool that must fail as a tool execution error and return the error text."""

    def call(name: str, **arguments: Any) -> str:
        result = call_tool(name, **arguments)
        assert result["isError"] is True, result
        text: str = result["content"][0]["text"]
        return text

    return call
