"""Drive the tool server over stdin/stdout: MCP's stdio transport for any native MCP host (``satchel tools``).

Tool calls run on a small thread pool so the reader keeps reading while one runs; that is how a
``notifications/cancelled`` reaches a running call. Everything else is answered inline, in order. Writes are
serialised by a lock so lines from concurrent calls never interleave.
"""

from __future__ import annotations

import io
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from satchel.tools import jsonrpc
from satchel.tools.server import Exchange, ToolServer


def _utf8(stream: TextIO, *, writing: bool) -> TextIO:
    """MCP's stdio is UTF-8 whatever the locale says; rewrap the process streams accordingly."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return stream
    return io.TextIOWrapper(
        buffer, encoding="utf-8", newline="\n" if writing else None, write_through=writing
    )


def serve_stdio(
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    server: ToolServer | None = None,
    max_workers: int = 4,
) -> None:
    """Serve MCP over a line stream until the input ends; in-flight calls finish before this returns."""
    if server is None:
        from satchel.tools.catalog import default_server

        server = default_server()
    reader = stdin if stdin is not None else _utf8(sys.stdin, writing=False)
    writer = stdout if stdout is not None else _utf8(sys.stdout, writing=True)
    lock = threading.Lock()

    def send(exchange: Exchange) -> None:
        for batch in exchange:
            if batch:
                with lock:
                    for message in batch:
                        writer.write(jsonrpc.encode(message) + "\n")
                    writer.flush()

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tool-call") as pool:
        for line in reader:
            if not line.strip():
                continue
            exchange = server.start_line(line)
            if exchange.is_tool_call:
                pool.submit(send, exchange)
            else:
                send(exchange)
