"""Per-call latency of each local tool through the native stdio server versus a direct in-process call.

Run: ``python bench/bench_tools_native.py [--calls N]``. Both columns are measured in this run on the same inputs:
"direct" calls the tool function in this process (``Tool.run``); "stdio" sends ``tools/call`` as a JSON line to
``python -m satchel.tools`` and waits for the response line, so the difference is the cost of the protocol (JSON
encoding both ways, argument validation, the pipe and a thread hand-off). Also printed: server start-up to the
``initialize`` response.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satchel.tools.catalog import BUILTIN_TOOLS  # noqa: E402
from tests.support.stdio_mcp import (  # noqa: E402
    PROTOCOL_VERSION,
    StdioSession,
    notification,
    python_tools_command,
)

ARTICLE = " ".join(
    f"Sentence {index} says the solar farm on hill {index % 7} will power {index * 13} homes by {2030 + index % 5}."
    for index in range(60)
)
PERSONAL = (
    "Dear Ms Jane Roe, born 17 May 1990, your card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 "
    "are on file. Call +44 20 7946 0958 or write to jane.roe@example.org from 192.168.10.4. "
) * 20
CSV = "region,units,price\n" + "\n".join(
    f"R{index % 9},{index % 50},{index % 17 + 0.5}" for index in range(2000)
)

INPUTS: dict[str, dict[str, Any]] = {
    "redact": {"text": PERSONAL, "names": ["Jane Roe"], "keep_last": 4},
    "summarize_extractive": {"text": ARTICLE, "sentence_count": 5},
    "text_stats": {"text": ARTICLE},
    "csv_query": {
        "csv_text": CSV,
        "query": "SELECT region, sum(units), avg(price) FROM data GROUP BY region",
    },
    "date_math": {
        "operation": "convert",
        "start": "2024-03-30T12:00:00+01:00",
        "timezone_name": "America/New_York",
    },
    "json_patch": {
        "document": {"items": list(range(200)), "meta": {"owner": "ann"}},
        "patch": [
            {"op": "add", "path": "/items/-", "value": 1},
            {"op": "replace", "path": "/meta/owner", "value": "bo"},
        ],
    },
}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_tools_server() -> tuple[StdioSession, float]:
    """`python -m satchel.tools` on stdio after the MCP handshake, and the seconds from its start to the initialize
    response."""
    command, env = python_tools_command()
    started = time.perf_counter()
    server = StdioSession(command, env=env, stderr=None)
    server.request("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}})
    startup_seconds = time.perf_counter() - started
    server.send(notification("notifications/initialized"))
    return server, startup_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="timed calls per tool and path (default 50)")
    calls = parser.parse_args().calls
    server, startup_seconds = start_tools_server()
    print(f"stdio server start-up to initialize response: {startup_seconds * 1000:.0f} ms")
    print(f"{calls} calls per tool after 3 warm-up calls; latency in ms\n")
    header = f"{'tool':<22}{'direct p50':>11}{'direct p95':>11}{'stdio p50':>11}{'stdio p95':>11}{'stdio/direct':>14}"
    print(header)
    print("-" * len(header))
    try:
        for tool in BUILTIN_TOOLS:
            arguments = INPUTS[tool.name]
            direct: list[float] = []
            stdio: list[float] = []
            for round_number in range(calls + 3):
                started = time.perf_counter()
                tool.run(arguments)
                direct_elapsed = time.perf_counter() - started
                started = time.perf_counter()
                reply = server.request("tools/call", {"name": tool.name, "arguments": arguments})
                stdio_elapsed = time.perf_counter() - started
                if reply.get("result", {}).get("isError", True):
                    raise SystemExit(f"{tool.name} failed over stdio: {reply}")
                if round_number >= 3:
                    direct.append(direct_elapsed * 1000)
                    stdio.append(stdio_elapsed * 1000)
            ratio = statistics.median(stdio) / statistics.median(direct)
            print(
                f"{tool.name:<22}{percentile(direct, 0.5):>11.2f}{percentile(direct, 0.95):>11.2f}"
                f"{percentile(stdio, 0.5):>11.2f}{percentile(stdio, 0.95):>11.2f}{ratio:>13.1f}x"
            )
    finally:
        server.close()


if __name__ == "__main__":
    main()
