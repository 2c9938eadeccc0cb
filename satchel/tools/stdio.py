"""Drive the tool server over stdin/stdout: MCP's stdio transport for any native MCP host (``satchel tools``).

Tool calls run on a small thread pool so the reader keeps reading while one runs; that is how a
``notifications/cancelled`` reaches a running call. Everything else is answered inline, in order. Writes are
serialised by a lock so lines from concurrent calls never interleave. Lines are read with a bound: one longer than
``MAX_MESSAGE_CHARS`` is never held whole — what is past the limit is read in small pieces and dropped up to its
newline, the sender gets an error naming the limit, and the next line is served as usual.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from satchel.tools import jsonrpc
from satchel.tools.server import MAX_MESSAGE_CHARS, Exchange, ToolServer

_DISCARD_CHUNK = 64 * 1024
"""How much of an oversized line is read at a time while skipping it."""


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
        for line in bounded_lines(reader, MAX_MESSAGE_CHARS):
            if line is None:
                send(server.refuse_oversized_line())
                continue
            if not line.strip():
                continue
            exchange = server.start_line(line)
            if exchange.is_tool_call:
                pool.submit(send, exchange)
            else:
                send(exchange)


def bounded_lines(reader: TextIO, limit: int) -> Iterator[str | None]:
    """The lines of ``reader`` without their newline; None in place of each line longer than ``limit`` characters,
    which is skipped (read ``_DISCARD_CHUNK`` characters at a time up to its newline) so that no more than
    ``limit + 1`` characters of it are ever held."""
    while True:
        line = reader.readline(limit + 1)
        if not line:
            return
        if line.endswith("\n"):
            yield line[:-1]
        elif len(line) <= limit:
            yield line  # the last line, without a newline
        else:
            del line
            while True:
                rest = reader.readline(_DISCARD_CHUNK)
                if not rest or rest.endswith("\n"):
                    break
            yield None
