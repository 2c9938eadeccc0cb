"""Registry entries as an upstream MCP registry serves them, for the tests of Satchel's registry and its mirror."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from satchel.registry.schema import OFFICIAL_META_KEY


def upstream_entry(
    name: str, version: str, updated: str = "2026-10-01T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    """One server list entry of an upstream registry: the server.json and the registry's official metadata."""
    official = {"status": "active", "publishedAt": updated, "updatedAt": updated, "isLatest": True}
    return {
        "server": {"name": name, "description": f"{name} upstream", "version": version, **extra},
        "_meta": {OFFICIAL_META_KEY: official, "org.example/rank": 7},
    }


@contextmanager
def serve_registry(entries: list[dict[str, Any]], requests: list[str] | None = None) -> Iterator[str]:
    """An MCP registry on another port of this machine listing `entries`; yields its base URL. The path and query
    of every request it gets is appended to `requests`, when given."""
    body = json.dumps({"servers": entries, "metadata": {"count": len(entries)}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if requests is not None:
                requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
