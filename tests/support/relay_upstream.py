"""A remote MCP server stand-in for relay tests (`satchel serve`'s `/relay` and a bundle's nginx/Caddy relay routes):
a real HTTP server on 127.0.0.1 that records what reaches it and answers, by path, in the ways a relay must handle."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: Every wait of the upstream for a state is bounded by this.
STATE_TIMEOUT_S = 60.0


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, list[str]]
    body: bytes


class Upstream:
    """A remote MCP server stand-in on 127.0.0.1 that records what reaches it; its paths answer in the ways a
    relay must handle (see `_answer`)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        #: Lets a held answer (`/slow`, `/sse`) go on.
        self.release = threading.Event()
        #: Set when `/sse` finds that its client (the relay) closed the connection.
        self.closed = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream._answer(self)

            do_POST = do_GET
            do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Upstream:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        headers: dict[str, list[str]] = {}
        for name, value in handler.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        self.seen.append(Seen(handler.command, handler.path, headers, body))
        path = urlsplit(handler.path).path
        try:
            if path == "/sse":
                self._event_stream(handler)
            elif path == "/slow":
                self.release.wait(STATE_TIMEOUT_S)
                self._send(handler, 200, b"{}", [("Content-Type", "application/json")])
            elif path == "/big":
                self._send(handler, 200, b"x" * 65536, [("Content-Type", "application/octet-stream")])
            elif path == "/flood":
                events = b"".join(b"event: message\ndata: %d\n\n" % n for n in range(1000))
                self._send(handler, 200, events, [("Content-Type", "text/event-stream")])
            elif path == "/auth":
                challenge = (
                    'Bearer resource_metadata="https://auth.example/.well-known/oauth-protected-resource"'
                )
                self._send(handler, 401, b"", [("WWW-Authenticate", challenge)])
            elif path == "/redirect":
                self._send(handler, 307, b"", [("Location", "/elsewhere?code=1")])
            else:
                self._send(
                    handler,
                    200,
                    json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}}).encode(),
                    [
                        ("Content-Type", "application/json"),
                        ("Mcp-Session-Id", "session-1"),
                        ("Set-Cookie", "tracking=1; Path=/"),
                        ("X-Internal", "secret"),
                        ("Access-Control-Allow-Origin", "*"),
                    ],
                )
        except OSError:
            pass  # the relay went away first, as some tests make it

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: list[tuple[str, str]]
    ) -> None:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _event_stream(self, handler: BaseHTTPRequestHandler) -> None:
        """The first event at once; the second once `release` is set; `closed` if the client leaves before."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        handler.wfile.write(b"event: message\ndata: first\n\n")
        handler.wfile.flush()
        connection: socket.socket = handler.connection
        deadline = time.monotonic() + STATE_TIMEOUT_S
        while not self.release.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([connection], [], [], 0.05)
            if readable and connection.recv(1, socket.MSG_PEEK) == b"":
                self.closed.set()
                return
        handler.wfile.write(b"event: message\ndata: second\n\n")
