"""`satchel bundle --api-upstream`: the generated nginx and Caddy configs pass the checks of the real servers, and
send `/mcp/` and `/v0.1/` to a `satchel serve` unchanged (raw path, the browser's Host) and unbuffered (a streamed
answer reaches the client event by event), with each of the site's headers sent exactly once."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest

from satchel.bundle.spec import BundleSpec
from satchel.policy import Policy
from satchel.security import SECURITY_HEADERS, STATIC_CACHE_CONTROL
from tests.bundle.webservers import CADDY, WebServer, available, check_config, write_tiny_site
from tests.support.ports import free_port

SITE = ["index.html", "sw.js", "app.js"]


class Upstream:
    """A stand-in for `satchel serve` that records what reaches it and streams an answer held at its midpoint."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.release = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                upstream.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers["Host"],
                        "proto": self.headers["X-Forwarded-Proto"],
                    }
                )

            def do_GET(self) -> None:
                self._record()
                body = json.dumps({"servers": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                # What satchel serve sends too: the proxy must not send these twice, nor let them differ.
                self.send_header("Cross-Origin-Opener-Policy", "unsafe-none")
                self.send_header("Cache-Control", "max-age=60")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self._record()
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(b"event: message\ndata: first\n\n")
                self.wfile.flush()
                # The rest only once the client has read the first event: a buffering proxy never lets it.
                upstream.release.wait(30)
                self.wfile.write(b"event: message\ndata: second\n\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def __enter__(self) -> Upstream:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def write_site(root: Path, port: int, api_upstream: str | None) -> Path:
    """The bundle's server configs for a tiny site in `root` (no app build needed to test the proxy)."""
    spec = BundleSpec(
        policy=Policy(organization="Proxy test"),
        url=f"http://localhost:{port}/",
        listen=f"127.0.0.1:{port}",
        install_dir=PurePosixPath(root),
        api_upstream=api_upstream,
    )
    return write_tiny_site(root, spec, SITE)


@pytest.mark.parametrize("api", [None, "http://127.0.0.1:8471", "https://localhost:8443"])
@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_generated_configs_pass_the_servers_own_checks(tmp_path: Path, kind: str, api: str | None) -> None:
    if not available(kind):
        pytest.fail(f"{kind} is not installed: run scripts/setup.sh")
    checked = check_config(kind, write_site(tmp_path / "b", free_port(), api), tmp_path / "work")
    assert checked.returncode == 0, checked.stderr
    expected = "test is successful" if kind == "nginx" else "Valid configuration"
    assert expected in checked.stdout + checked.stderr


def test_caddy_proxies_the_api_unbuffered_and_compresses_only_the_site(tmp_path: Path) -> None:
    root = write_site(tmp_path / "b", free_port(), "http://127.0.0.1:8471")
    adapted = subprocess.run(
        [CADDY, "adapt", "--config", str(root / "server/Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    text = adapted.stdout
    handlers = [h for h in _walk(json.loads(text)) if isinstance(h, dict) and "handler" in h]
    [proxy] = [h for h in handlers if h["handler"] == "reverse_proxy"]
    assert proxy["flush_interval"] == -1
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:8471"}]
    assert sorted(proxy["headers"]["response"]["delete"]) == sorted([*SECURITY_HEADERS, "Cache-Control"])


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _walk(child)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as running:
        yield running


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_api_requests_reach_satchel_serve_unchanged_and_unbuffered(
    tmp_path: Path, kind: str, upstream: Upstream
) -> None:
    if not available(kind):
        pytest.fail(f"{kind} is not installed: run scripts/setup.sh")
    port = free_port()
    server = WebServer(
        kind, write_site(tmp_path / "b", port, f"http://127.0.0.1:{upstream.port}"), port, tmp_path / "w"
    )
    server.start()
    try:
        host = f"localhost:{port}"
        with httpx.Client(base_url=server.url, headers={"Host": host}, timeout=20) as client:
            listed = client.get("/v0.1/servers/io.satchel%2Fworkspace/versions?limit=5")
            assert listed.status_code == 200 and listed.json() == {"servers": []}
            for name, value in {**SECURITY_HEADERS, "Cache-Control": STATIC_CACHE_CONTROL}.items():
                assert listed.headers.get_list(name) == [value], name
            assert upstream.seen[-1] == {
                "method": "GET",
                "path": "/v0.1/servers/io.satchel%2Fworkspace/versions?limit=5",
                "host": host,
                "proto": "http",
            }

            call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
            with client.stream("POST", "/mcp/workspace", json=call) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("data:")) == "data: first"
                upstream.release.set()
                assert [line for line in lines if line.startswith("data:")] == ["data: second"]
            assert upstream.seen[-1]["path"] == "/mcp/workspace" and upstream.seen[-1]["host"] == host

            # Everything else is still the static site.
            page = client.get("/")
            assert page.status_code == 200 and page.text == "<!-- index.html -->\n"
            assert [seen["path"] for seen in upstream.seen] == [
                "/v0.1/servers/io.satchel%2Fworkspace/versions?limit=5",
                "/mcp/workspace",
            ]
    finally:
        server.stop()
