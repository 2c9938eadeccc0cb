"""stdio: the line driver — framing, UTF-8, and a cancellation that reaches a call running in the real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from satchel.tools.stdio import serve_stdio

ROOT = Path(__file__).resolve().parents[2]


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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "satchel.tools"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None

    def send(message: dict[str, Any]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()

    def receive() -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the server closed its output"
        reply: dict[str, Any] = json.loads(line)
        return reply

    try:
        text = " ".join(
            f"Topic {index % 40} sentence {index} mentions shared words again." for index in range(1900)
        )
        send(
            {
                "jsonrpc": "2.0",
                "id": "long",
                "method": "tools/call",
                "params": {
                    "name": "summarize_extractive",
                    "arguments": {"text": text},
                    "_meta": {"progressToken": "p"},
                },
            }
        )
        first = receive()
        assert first["method"] == "notifications/progress" and first["params"]["progressToken"] == "p"
        send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "long"}})
        send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        seen = [receive()]
        while seen[-1].get("id") != "after":
            seen.append(receive())
        process.stdin.close()
        rest = [json.loads(line) for line in process.stdout.read().splitlines()]
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    responses = [message for message in seen + rest if "id" in message]
    assert [message["id"] for message in responses] == ["after"], "the cancelled call must not answer"
