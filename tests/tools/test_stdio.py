"""stdio: the line driver — framing, UTF-8, and a cancellation that reaches a call running in the real process."""

from __future__ import annotations

import io
import json
from typing import Any

from satchel.tools.stdio import serve_stdio
from tests.support.stdio_mcp import REPO, StdioSession, notification, python_tools_command, request, tool_call


def lines_of(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def test_serves_each_line_and_skips_blank_ones() -> None:
    stdin = io.StringIO(
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}\n'
        "\n"
        '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
        "not json\n"
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"text_stats","arguments":{"text":"Grüße!"}}}\n'
    )
    stdout = io.StringIO()
    serve_stdio(stdin, stdout)
    replies = lines_of(stdout.getvalue())
    assert replies[0]["result"]["protocolVersion"] == "2025-11-25"
    assert replies[1]["error"]["code"] == -32700
    assert replies[2]["id"] == 2 and replies[2]["result"]["structuredContent"]["words"] == 1


def test_cancel_reaches_a_running_call_in_the_server_process() -> None:
    command, env = python_tools_command()
    with StdioSession(command, env=env, cwd=REPO, stderr=None) as server:
        text = " ".join(
            f"Topic {index % 40} sentence {index} mentions shared words again." for index in range(1900)
        )
        server.send(tool_call("long", "summarize_extractive", {"text": text}, token="p"))
        first = server.receive()
        assert first["method"] == "notifications/progress" and first["params"]["progressToken"] == "p"
        server.send(notification("notifications/cancelled", {"requestId": "long"}))
        server.send(request("after", "ping"))
        seen = [server.receive()]
        while seen[-1].get("id") != "after":
            seen.append(server.receive())
        rest = server.finish()
        assert server.process.returncode == 0
    responses = [message for message in seen + rest if "id" in message]
    assert [message["id"] for message in responses] == ["after"], "the cancelled call must not answer"
