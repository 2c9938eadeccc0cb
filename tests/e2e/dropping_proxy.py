"""An HTTP proxy in front of a `satchel serve` process that logs every request and can lose a connection mid-file:
the first `drops` responses for one path stop after `cut_after` body bytes and the socket closes, as when a phone
loses its signal during a download; `pace_s` slows that path down (a pause per 64 KB), as a slow network does. Tests
read `requests` to see what the browser asked for (a `Range` header)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: How long a cut response stays open after its last bytes before the connection ends.
LINGER_S = 0.5
#: Headers that belong to one connection, not to the message (RFC 9110 §7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    range: str | None


class DroppingProxy:
    def __init__(
        self, upstream_port: int, *, path: str, cut_after: int = 0, drops: int = 0, pace_s: float = 0.0
    ) -> None:
        self.upstream = f"127.0.0.1:{upstream_port}"
        self.path = path
        self.cut_after = cut_after
        self.drops = drops
        self.pace_s = pace_s
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_for(self, path: str) -> list[ProxiedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _take_drop(self, path: str) -> bool:
        with self._lock:
            if path != self.path or self.drops == 0:
                return False
            self.drops -= 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                path = self.path.split("?", 1)[0]
                with proxy._lock:
                    proxy.requests.append(ProxiedRequest(self.command, path, self.headers.get("Range")))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                # The registry API makes the workspace's URL from the Host it sees, so the page must keep talking to
                # the proxy; the workspace MCP server itself refuses any Host and Origin but its own.
                if path.startswith("/mcp/"):
                    headers["Host"] = proxy.upstream
                    if "Origin" in headers:
                        headers["Origin"] = f"http://{proxy.upstream}"
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                budget = proxy.cut_after if proxy._take_drop(path) else None
                pause = proxy.pace_s if path == proxy.path else 0.0
                sent = 0
                while chunk := answer.read1(65536):
                    if budget is not None and sent + len(chunk) >= budget:
                        self.wfile.write(chunk[: budget - sent])
                        self.wfile.flush()
                        # Chromium drops body bytes it has not handed to the page yet when the connection fails,
                        # so give it a moment to pass them on, as a real connection lost after a while does.
                        time.sleep(LINGER_S)
                        self.connection.shutdown(socket.SHUT_WR)  # the connection ends mid-body
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if pause:
                        self.wfile.flush()
                        time.sleep(pause)
                upstream.close()
                self.close_connection = True

            do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = do_PATCH = do_OPTIONS = _forward

        return Handler
