"""stdio: the line driver — framing, UTF-8, and a cancellation that reaches a call running in the real process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from satchel.tools.server import MAX_MESSAGE_CHARS
from satchel.tools.stdio import bounded_lines, serve_stdio
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


def test_an_oversized_line_is_refused_naming_the_limit_and_the_next_line_is_served() -> None:
    ping = '{"jsonrpc":"2.0","id":%d,"method":"ping"}\n'
    stdin = io.StringIO(ping % 1 + "x" * (MAX_MESSAGE_CHARS + 100) + "\n" + ping % 2 + ping % 3)
    stdout = io.StringIO()
    serve_stdio(stdin, stdout)
    first, refused, second, third = lines_of(stdout.getvalue())
    assert first == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert refused["id"] is None and refused["error"]["code"] == -32600
    assert f"longer than {MAX_MESSAGE_CHARS:,} characters (the limit)" in refused["error"]["message"]
    assert [second["id"], third["id"]] == [2, 3]


def test_a_line_of_exactly_the_limit_is_read() -> None:
    line = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'
    line += "x" * (MAX_MESSAGE_CHARS - len(line) - 3) + '"}}'
    assert len(line) == MAX_MESSAGE_CHARS
    assert list(bounded_lines(io.StringIO(line + "\n" + line), MAX_MESSAGE_CHARS)) == [line, line]


def peak_memory_bytes(pid: int) -> int:
    for entry in Path(f"/proc/{pid}/status").read_text().splitlines():
        if entry.startswith("VmHWM:"):
            return int(entry.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from Linux's /proc")
def test_the_server_process_never_holds_an_oversized_line_whole() -> None:
    command, env = python_tools_command()
    with StdioSession(command, env=env, cwd=REPO, stderr=None) as server:
        server.initialize()
        # Six times the limit: held whole it took about 240 MB here; skipped, about 50 MB (the interpreter, and
        # the first limit's worth of characters read before the line is known to be too long).
        server.send("[" + " " * (6 * MAX_MESSAGE_CHARS) + "]")
        assert server.receive()["error"]["code"] == -32600
        assert server.request("ping") == {"jsonrpc": "2.0", "id": 2, "result": {}}
        peak = peak_memory_bytes(server.process.pid)
        server.finish()
    assert peak < 5 * MAX_MESSAGE_CHARS, f"peak memory {peak:,} bytes"
