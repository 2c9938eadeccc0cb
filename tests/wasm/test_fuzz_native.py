"""Fuzzing the C++ servers natively (the reliability suite): whisper and llama each get 10,000 generated bad lines
(tests/support/fuzz_inputs.py: not JSON, not JSON-RPC, wrong types, their own tools called with almost-right
arguments) on one running server. After each line a `ping` follows; its answer must come, so a line that crashes the
server, hangs it or leaves it unable to serve is caught at that line. Every message the server writes must be
well-formed JSON-RPC. The same C++ core runs in the browser as WASM, built from the same sources."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.fuzz_inputs import FUZZ_INPUTS, lines
from tests.support.stdio_mcp import StdioSession, request
from tests.wasm.conftest import TinyModels

#: Generous: the tiny models answer any call in well under a second; reaching it means the server hangs.
LINE_TIMEOUT_S = 120


def check_message(message: dict[str, Any]) -> None:
    assert message.get("jsonrpc") == "2.0", message
    if "id" in message and "method" not in message:
        if "error" in message:
            error = message["error"]
            assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), message
        else:
            assert isinstance(message.get("result"), dict), message


@pytest.mark.parametrize("name", ["whisper", "llama"])
def test_ten_thousand_bad_lines_never_crash_or_hang_the_server(
    name: str, native_servers: dict[str, Path], tiny_models: TinyModels
) -> None:
    server, model = native_servers[name], getattr(tiny_models, name)
    with StdioSession([str(server), "--model", str(model)]) as session:
        tools: list[dict[str, Any]] = session.request("tools/list")["result"]["tools"]
        sent = [0]

        @settings(
            max_examples=FUZZ_INPUTS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(lines(tools))
        def survives(line: str) -> None:
            sent[0] += 1
            sentinel = f"sentinel-{sent[0]}"
            # A hang ends the server, so that reading its output fails at this line instead of blocking the suite.
            watchdog = threading.Timer(LINE_TIMEOUT_S, session.process.kill)
            watchdog.start()
            try:
                session.send(line, request(sentinel, "ping"))
                while True:
                    message = session.receive()
                    check_message(message)
                    if message.get("id") == sentinel:
                        assert message.get("result") == {}, message
                        break
            finally:
                watchdog.cancel()

        survives()
        assert sent[0] >= FUZZ_INPUTS
        assert session.process.poll() is None, f"{name} exited"
