"""The bundle's nginx and Caddy configs, run by the real servers: every header of `satchel/security.py`, the MIME
types, Range requests and a service worker that is never cached, with no Satchel process involved."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from satchel.bundle.spec import BundleSpec
from satchel.policy import Policy
from satchel.security import MIME_TYPES, SECURITY_HEADERS, SERVICE_WORKER_CACHE_CONTROL, STATIC_CACHE_CONTROL
from tests.bundle.conftest import bundle_into, spec_for_install
from tests.bundle.webservers import WebServer, available
from tests.support.ports import free_port


@pytest.fixture(params=["nginx", "caddy"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, policy: Policy, app_copy: Path
) -> Iterator[WebServer]:
    kind: str = request.param
    if not available(kind):
        pytest.fail(f"{kind} is not installed: run scripts/setup.sh")
    port = free_port()
    bundle = tmp_path / "bundle"
    spec: BundleSpec = spec_for_install(policy, bundle, f"127.0.0.1:{port}", f"http://localhost:{port}/")
    bundle_into(bundle, spec, app_copy)
    (bundle / "dist/worker.mjs").write_text("export {};\n")  # a suffix the built site may not have yet
    server = WebServer(kind, bundle, port, tmp_path / "work")
    server.start()
    yield server
    server.stop()


def expected_type(path: str) -> str:
    suffix = Path(path).suffix
    return MIME_TYPES.get(suffix) or mimetypes.MimeTypes().types_map[True][suffix]


def test_every_file_has_every_header_and_its_mime_type(served: WebServer) -> None:
    dist = served.bundle_dir / "dist"
    files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file() and p.suffix)
    assert {Path(f).suffix for f in files} >= {
        ".html",
        ".js",
        ".mjs",
        ".wasm",
        ".webmanifest",
        ".json",
        ".css",
    }
    with httpx.Client(base_url=served.url) as client:
        for path in files:
            response = client.get("/" + path)
            assert response.status_code == 200, path
            assert response.content == (dist / path).read_bytes(), path
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (path, name)
            assert response.headers["content-type"].split(";")[0] == expected_type(path), path
            cache = SERVICE_WORKER_CACHE_CONTROL if path == "sw.js" else STATIC_CACHE_CONTROL
            assert response.headers["cache-control"] == cache, path


def test_root_and_missing_paths_are_isolated_too(served: WebServer) -> None:
    with httpx.Client(base_url=served.url) as client:
        root = client.get("/")
        assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
        assert root.content == (served.bundle_dir / "dist/index.html").read_bytes()
        missing = client.get("/no-such-file.js")
        assert missing.status_code == 404
        assert missing.headers["cross-origin-embedder-policy"] == "require-corp"
        assert missing.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def test_range_requests_get_206_with_the_right_bytes(served: WebServer) -> None:
    wasm = next((served.bundle_dir / "dist").rglob("*.wasm"))
    path = "/" + wasm.relative_to(served.bundle_dir / "dist").as_posix()
    data = wasm.read_bytes()
    with httpx.Client(base_url=served.url) as client:
        response = client.get(path, headers={"Range": "bytes=4-15", "Accept-Encoding": "identity"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 4-15/{len(data)}"
    assert response.content == data[4:16]
    assert response.headers["cross-origin-resource-policy"] == "same-origin"


def test_conditional_requests_always_get_the_whole_file(served: WebServer) -> None:
    # Bundle files carry fixed mtimes: a validator from an older bundle must never turn into a 304.
    with httpx.Client(base_url=served.url) as client:
        first = client.get("/styles.css")
        again = client.get(
            "/styles.css",
            headers={
                "If-None-Match": first.headers.get("etag", '"x"'),
                "If-Modified-Since": "Sat, 01 Jan 2000",
            },
        )
    assert again.status_code == 200 and again.content == first.content
