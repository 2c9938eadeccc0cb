"""`satchel serve`: headers, MIME types, Range and caching of the built site, and the --reload rebuild."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from satchel.build import BuildInputs, build_app, build_from_inputs, recorded_inputs
from satchel.policy import parse_policy_toml
from satchel.security import SECURITY_HEADERS, content_security_policy
from satchel.server import ServeError, create_app, reload_inputs
from tests.conftest import NODE_MODULES, REPO
from tests.test_policy import RIVERSIDE


@pytest.fixture
def dist(app_copy: Path, tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    build_app(app_copy, out, node_modules=NODE_MODULES)
    (out / "server.wasm").write_bytes(b"\0asm\1\0\0\0")
    (out / "worker.mjs").write_text("export {};\n")
    return out


@pytest.fixture
def client(dist: Path) -> TestClient:
    return TestClient(create_app(dist))


def test_every_response_is_cross_origin_isolated_with_a_strict_csp(client: TestClient) -> None:
    for path in ("/", "/sw.js", "/styles.css", "/icons/icon-192.png", "/missing"):
        response = client.get(path)
        assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert response.headers["cross-origin-embedder-policy"] == "require-corp"
        assert response.headers["cross-origin-resource-policy"] == "same-origin"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self' 'wasm-unsafe-eval'" in csp
        assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert client.get("/missing").status_code == 404


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("/", "text/html"),
        ("/sw.js", "text/javascript"),
        ("/worker.mjs", "text/javascript"),
        ("/server.wasm", "application/wasm"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/icons/icon.svg", "image/svg+xml"),
        ("/icons/icon-512.png", "image/png"),
    ],
)
def test_mime_types(client: TestClient, path: str, mime: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == mime


def test_service_worker_is_never_cached_and_other_files_revalidate(client: TestClient) -> None:
    assert "no-store" in client.get("/sw.js").headers["cache-control"]
    index = client.get("/")
    assert index.headers["cache-control"] == "no-cache"
    again = client.get("/", headers={"If-None-Match": index.headers["etag"]})
    assert again.status_code == 304


def test_range_requests_return_partial_content(client: TestClient, dist: Path) -> None:
    data = (dist / "vendor/mcp-sdk.js").read_bytes()
    response = client.get("/vendor/mcp-sdk.js", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert response.content == data[100:200]
    unsatisfiable = client.get("/vendor/mcp-sdk.js", headers={"Range": f"bytes={len(data) + 10}-"})
    assert unsatisfiable.status_code == 416


def _meta_csp(page: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert match, "the page has no CSP <meta>"
    return html.unescape(match.group(1))


def test_an_unmanaged_site_sends_the_open_csp_in_header_and_meta(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["content-security-policy"] == content_security_policy()
    assert _meta_csp(page.text) == content_security_policy(for_meta=True)
    assert "connect-src 'self' https: http:;" in page.headers["content-security-policy"]


def test_a_managed_site_connects_only_to_its_policy_origins(app_copy: Path, tmp_path: Path) -> None:
    policy = parse_policy_toml(RIVERSIDE)
    out = tmp_path / "dist"
    build_app(app_copy, out, node_modules=NODE_MODULES, policy=policy)
    client = TestClient(create_app(out))
    page = client.get("/")
    assert _meta_csp(page.text) == content_security_policy(policy=policy, for_meta=True)
    connect = "connect-src 'self' https://mcp.riverside.example http://192.168.1.20:8080;"
    # The service worker's fetches obey the CSP of its own script's response: the header must say it too.
    for path in ("/", "/sw.js", "/missing"):
        assert client.get(path).headers["content-security-policy"] == content_security_policy(policy=policy)
        assert connect in client.get(path).headers["content-security-policy"]


def test_the_csp_header_follows_the_served_policy_file(dist: Path) -> None:
    client = TestClient(create_app(dist))
    assert "connect-src 'self' https: http:;" in client.get("/").headers["content-security-policy"]
    changed = parse_policy_toml('organization = "A"\n[servers]\norigins = ["https://a.example"]')
    (dist / "policy.json").write_bytes(changed.json_bytes())
    assert "connect-src 'self' https://a.example;" in client.get("/").headers["content-security-policy"]
    # A policy that turns bad while served closes connect-src rather than opening it.
    (dist / "policy.json").write_text('{"version": 1}')
    assert "connect-src 'self';" in client.get("/").headers["content-security-policy"]


def test_serving_a_site_with_a_malformed_policy_is_a_clear_error(dist: Path) -> None:
    (dist / "policy.json").write_text('{"version": 1, "organization": "A", "servers": {"origins": ["x"]}}')
    with pytest.raises(
        ServeError, match=r"the site's policy cannot be enforced: .*policy\.json: servers\.origins"
    ):
        create_app(dist)


def test_serving_without_a_build_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="run `satchel build` first"):
        create_app(tmp_path / "dist")


def test_security_headers_are_defined_once() -> None:
    assert set(SECURITY_HEADERS) >= {
        "Cross-Origin-Opener-Policy",
        "Cross-Origin-Embedder-Policy",
        "Cross-Origin-Resource-Policy",
        "Content-Security-Policy",
    }


def _wait_for(client: TestClient, path: str, predicate: Callable[[str], bool], deadline: float) -> str:
    while time.monotonic() < deadline:
        response = client.get(path)
        if response.status_code == 200 and predicate(response.text):
            return response.text
        time.sleep(0.1)
    raise AssertionError(f"{path} never showed what was expected")


def test_reload_mode_rebuilds_when_the_app_changes(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with TestClient(
        create_app(out, reload=BuildInputs(app_dir=app_copy, node_modules=NODE_MODULES))
    ) as client:
        deadline = time.monotonic() + 30
        assert "Field notes" not in _wait_for(client, "/", lambda _text: True, deadline)
        index = app_copy / "index.html.j2"
        index.write_text(index.read_text().replace("<title>Satchel</title>", "<title>Field notes</title>"))
        _wait_for(client, "/", lambda text: "Field notes" in text, deadline)
    asyncio.set_event_loop(None)


def test_reload_keeps_the_policy_of_the_last_build_and_follows_its_file(
    app_copy: Path, tmp_path: Path
) -> None:
    # `satchel build --policy P` then `satchel serve --reload`: the rebuilt site must stay managed, and an edit
    # of the policy file is a change like any other.
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(RIVERSIDE)
    out = tmp_path / "dist"
    build_from_inputs(
        BuildInputs(app_dir=REPO / "app", node_modules=NODE_MODULES, policy_file=policy_file), out
    )
    reload = reload_inputs(app_copy, out)
    assert reload == BuildInputs(
        app_dir=app_copy, node_modules=NODE_MODULES.resolve(), policy_file=policy_file.resolve()
    )
    with TestClient(create_app(out, reload=reload)) as client:
        deadline = time.monotonic() + 30
        index = app_copy / "index.html.j2"
        index.write_text(index.read_text().replace("<title>Satchel</title>", "<title>Field notes</title>"))
        text = _wait_for(client, "/", lambda text: "Field notes" in text, deadline)
        assert '<meta name="satchel-managed" content="true">' in text
        policy_file.write_text(RIVERSIDE.replace("Riverside Clinic", "Hillside Clinic"))
        _wait_for(client, "/policy.json", lambda text: "Hillside Clinic" in text, deadline)
    asyncio.set_event_loop(None)


def test_build_records_its_inputs_where_they_are_not_served(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    inputs = BuildInputs(app_dir=app_copy, node_modules=NODE_MODULES)
    build_from_inputs(inputs, out)
    assert recorded_inputs(out) == BuildInputs(
        app_dir=app_copy.resolve(), node_modules=NODE_MODULES.resolve()
    )
    client = TestClient(create_app(out))
    assert client.get("/.satchel-build").status_code == 404
    assert str(app_copy.resolve()) not in client.get("/").text


def test_reload_without_a_recorded_build_uses_the_app_alone(app_copy: Path, tmp_path: Path) -> None:
    assert reload_inputs(app_copy, tmp_path / "nothing-built") == BuildInputs(app_dir=app_copy)
