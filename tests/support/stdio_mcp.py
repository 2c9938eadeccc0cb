"""Driving an MCP server over stdio, one JSON-RPC message a line, as tests and benchmarks do: the messages, a whole
exchange with a native C++ server or a WASM reactor (in node, through the worker's host code), and a live session
with any stdio server for tests that time, interleave or cancel calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
#: Runs a WASI reactor server in node through app/workers/wasi-reactor.js: JSON-RPC lines in, messages out.
RUN_REACTOR = Path(__file__).with_name("run_reactor.mjs")
PROTOCOL_VERSION = "2025-11-25"


def request(request_id: int | str, method: str, params: Mapping[str, Any] | None = None) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def notification(method: str, params: Mapping[str, Any] | None = None) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def tool_call(
    request_id: int | str, name: str, arguments: Mapping[str, Any], token: str | None = None
) -> str:
    """A `tools/call` request; with `token`, it asks for progress notifications under that token."""
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return request(request_id, "tools/call", params)


def response(messages: list[dict[str, Any]], request_id: int | str) -> dict[str, Any]:
    """The one response to `request_id` among `messages` (notifications and other responses left out)."""
    found = [m for m in messages if m.get("id") == request_id and "method" not in m]
    assert len(found) == 1, f"expected one response to {request_id}, got {messages}"
    return found[0]


def run_native(server: Path, model: Path, lines: list[str], *extra: str) -> list[dict[str, Any]]:
    """Every message the native server writes for `lines` (stdin closed after them)."""
    completed = subprocess.run(
        [str(server), "--model", str(model), *extra],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


def run_wasm_process(
    server: Path, model: Path, lines: list[str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """The WASM reactor run in node for `lines`: its stdout holds every message, its stderr the host's log (each
    call's `reactor: handled in N ms`)."""
    return subprocess.run(
        ["node", str(RUN_REACTOR), str(server), str(model), *extra],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )


def run_wasm(server: Path, model: Path, lines: list[str], *extra: str) -> list[dict[str, Any]]:
    """Every message the WASM reactor writes for `lines`, run in node through the worker's host code."""
    completed = run_wasm_process(server, model, lines, *extra)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return [json.loads(line) for line in completed.stdout.splitlines()]


def python_tools_command() -> tuple[list[str], dict[str, str]]:
    """The command and environment of the Python tool server on stdio (`python -m satchel.tools`) of this checkout."""
    return [sys.executable, "-m", "satchel.tools"], {**os.environ, "PYTHONPATH": str(REPO)}


class StdioSession:
    """A stdio MCP server kept running: send lines, read its messages one at a time, close its input to end it."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stderr: int | IO[Any] | None = subprocess.DEVNULL,
    ) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        self._next_id = 0

    def send(self, *messages: str | Mapping[str, Any]) -> None:
        """Write each message (a JSON line, or a message to encode) in one flush."""
        assert self.process.stdin is not None
        for message in messages:
            self.process.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        """The server's next message; fails if it closed its output."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the server closed its output"
        message: dict[str, Any] = json.loads(line)
        return message

    def receive_response(self) -> dict[str, Any]:
        """The server's next response, skipping notifications (progress) before it."""
        while True:
            message = self.receive()
            if "id" in message and "method" not in message:
                return message

    def request(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send a request with the next id and return its response."""
        self._next_id += 1
        self.send(request(self._next_id, method, params))
        return self.receive_response()

    def initialize(self) -> dict[str, Any]:
        """The MCP handshake: `initialize`, then `notifications/initialized`; returns the initialize response."""
        answer = self.request("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}})
        self.send(notification("notifications/initialized"))
        return answer

    def finish(self) -> list[dict[str, Any]]:
        """Close the server's input and return every message it writes until it exits."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        messages = [json.loads(line) for line in self.process.stdout]
        self.process.wait(timeout=30)
        return messages

    def close(self) -> None:
        """End the server: close its input and wait; kill it if it does not exit."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> StdioSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
