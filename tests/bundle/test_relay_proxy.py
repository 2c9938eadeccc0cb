"""A managed bundle's relay: for each origin of the policy's `servers.origins`, the generated nginx and Caddy configs
relay `/relay/<scheme>/<host[:port]>/…` to it — checked by the real servers, then run by them against a real upstream:
Satchel's pages only, the MCP headers and no cookies, the path and query as sent, redirects passed back, bodies
limited, streams unbuffered, the relay's own failures marked as such, and http and https of one host apart."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

import httpx
import pytest
from click.testing import CliRunner
from starlette.requests import Request

from satchel.bundle.kiosk_doc import kiosk_doc
from satchel.bundle.spec import BundleError, BundleSpec, RelayRoute
from satchel.cli import main
from satchel.policy import Policy, parse_policy_toml
from satchel.relay import ERROR_HEADER, TARGET_HEADER, Target, parse_target
from satchel.security import security_headers
from tests.bundle.webservers import WebServer, available, check_config, write_tiny_site
from tests.support.ports import free_port
from tests.support.relay_upstream import STATE_TIMEOUT_S, Upstream

SITE = ["index.html", "sw.js", "app.json"]
RELAY = {"X-Satchel-Relay": "1"}
KINDS = ["nginx", "caddy"]


def managed(origins: Sequence[str]) -> Policy:
    listed = ", ".join(f'"{origin}"' for origin in origins)
    return parse_policy_toml(f'organization = "Riverside Clinic"\n[servers]\norigins = [{listed}]\n')


def write_site(root: Path, port: int, policy: Policy, resolvers: tuple[str, ...] = ()) -> Path:
    """The bundle's server configs for a tiny site in `root` (the relay needs no app build)."""
    spec = BundleSpec(
        policy=policy,
        url=f"http://localhost:{port}/",
        listen=f"127.0.0.1:{port}",
        install_dir=PurePosixPath(root),
        resolvers=resolvers,
    )
    return write_tiny_site(root, spec, SITE)


def require(kind: str) -> None:
    if not available(kind):
        pytest.fail(f"{kind} is not installed: run scripts/setup.sh")


@pytest.mark.parametrize("kind", KINDS)
def test_relay_configs_pass_the_servers_own_checks(tmp_path: Path, kind: str) -> None:
    require(kind)
    origins = [
        "https://mcp.riverside.example",
        "http://mcp.riverside.example",
        "http://192.168.1.20:8080",
        "http://[fd00::1]:8080",
    ]
    root = write_site(tmp_path / "b", free_port(), managed(origins), resolvers=("127.0.0.53", "::1"))
    checked = check_config(kind, root, tmp_path / "work")
    assert checked.returncode == 0, checked.stderr
    config = (root / "server" / ("nginx.conf" if kind == "nginx" else "Caddyfile")).read_text()
    for path in (
        "/relay/https/mcp.riverside.example/",
        "/relay/http/mcp.riverside.example/",
        "/relay/http/192.168.1.20:8080/",
        "/relay/http/[fd00::1]:8080/",
    ):
        assert path in config
    if kind == "nginx":
        assert "resolver 127.0.0.53 [::1] valid=60s;" in config
        assert "proxy_ssl_name mcp.riverside.example;" in config and "proxy_ssl_verify on;" in config


def test_a_bundle_without_origins_has_no_relay(tmp_path: Path) -> None:
    root = write_site(tmp_path / "b", free_port(), Policy(organization="Bank"))
    for config in ("nginx.conf", "Caddyfile"):
        assert "/relay/" not in (root / "server" / config).read_text()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as running:
        yield running


@pytest.fixture(params=KINDS)
def relaying(request: pytest.FixtureRequest, tmp_path: Path, upstream: Upstream) -> Iterator[httpx.Client]:
    """nginx or Caddy serving a bundle whose policy lists the upstream and an origin where nothing listens."""
    kind: str = request.param
    require(kind)
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    root = write_site(tmp_path / "b", port, managed([upstream.origin, closed]))
    server = WebServer(kind, root, port, tmp_path / "w")
    server.start()
    with httpx.Client(base_url=server.url, timeout=STATE_TIMEOUT_S) as client:
        client.headers["X-Closed-Origin"] = closed  # where the unreachable test points
        yield client
    server.stop()


def route(upstream: Upstream, rest: str) -> str:
    return f"/relay/http/127.0.0.1:{upstream.port}{rest}"


def assert_relay_error(response: httpx.Response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers[ERROR_HEADER] == kind
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"error"}


def test_requests_without_the_relay_header_are_forbidden(relaying: httpx.Client, upstream: Upstream) -> None:
    response = relaying.post(route(upstream, "/mcp"), json={})
    assert_relay_error(response, 403, "forbidden")
    assert "X-Satchel-Relay: 1" in response.json()["error"]
    assert response.headers["cross-origin-embedder-policy"] == "require-corp"
    assert upstream.seen == []


def test_a_request_reaches_its_origin_with_the_mcp_headers_and_no_cookies(
    relaying: httpx.Client, upstream: Upstream
) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = relaying.post(
        route(upstream, "/mcp%2Fx/%7e%41;v=1,2?tenant=a%20b&next=%2Fhome&&x+y=a=b"),
        json=call,
        headers={
            **RELAY,
            "Authorization": "Bearer token-1",
            "Mcp-Session-Id": "session-1",
            "Mcp-Protocol-Version": "2025-11-25",
            "Cookie": "satchel-session=mine",
            "Origin": relaying.base_url.host,
            "Referer": str(relaying.base_url),
            "Sec-Fetch-Mode": "cors",
        },
    )
    assert response.status_code == 200 and response.json()["result"] == {}
    [seen] = upstream.seen
    assert (seen.method, json.loads(seen.body)) == ("POST", call)
    assert seen.target == "/mcp%2Fx/%7e%41;v=1,2?tenant=a%20b&next=%2Fhome&&x+y=a=b"
    assert seen.headers["host"] == [f"127.0.0.1:{upstream.port}"]
    assert seen.headers["authorization"] == ["Bearer token-1"]
    assert seen.headers["mcp-session-id"] == ["session-1"]
    assert seen.headers["mcp-protocol-version"] == ["2025-11-25"]
    assert seen.headers["user-agent"] == ["satchel-relay"]
    for name in ("cookie", "origin", "referer", "sec-fetch-mode", "x-satchel-relay", "x-forwarded-for"):
        assert name not in seen.headers, name
    # Back: the upstream's session and type, not its cookie, and the site's security headers exactly once.
    assert response.headers["mcp-session-id"] == "session-1"
    assert response.headers["content-type"] == "application/json"
    assert response.headers[TARGET_HEADER] == upstream.origin
    assert "set-cookie" not in response.headers and ERROR_HEADER not in response.headers
    expected = security_headers(managed([upstream.origin, relaying.headers["X-Closed-Origin"]]))
    for name, value in expected.items():
        assert response.headers.get_list(name) == [value], name


def test_status_challenge_and_redirect_come_back_as_they_are(
    relaying: httpx.Client, upstream: Upstream
) -> None:
    challenged = relaying.post(route(upstream, "/auth"), json={}, headers=RELAY)
    assert challenged.status_code == 401 and ERROR_HEADER not in challenged.headers
    assert challenged.headers["www-authenticate"].startswith("Bearer resource_metadata=")
    redirected = relaying.get(route(upstream, "/redirect"), headers=RELAY)
    assert redirected.status_code == 307 and redirected.headers["location"] == "/elsewhere?code=1"
    assert [seen.target for seen in upstream.seen] == ["/auth", "/redirect"]


def test_a_body_over_four_mebibytes_is_refused(relaying: httpx.Client, upstream: Upstream) -> None:
    response = relaying.post(route(upstream, "/mcp"), content=b"x" * (4 * 1024 * 1024 + 1), headers=RELAY)
    assert_relay_error(response, 413, "too-large")
    assert upstream.seen == []


def test_an_origin_that_cannot_be_reached_is_reported_as_such(relaying: httpx.Client) -> None:
    closed = httpx.URL(relaying.headers["X-Closed-Origin"])
    response = relaying.get(f"/relay/http/127.0.0.1:{closed.port}/mcp", headers=RELAY)
    assert_relay_error(response, 502, "unreachable")


def test_an_event_stream_is_relayed_as_it_comes(relaying: httpx.Client, upstream: Upstream) -> None:
    with relaying.stream("GET", route(upstream, "/sse"), headers=RELAY) as response:
        assert response.headers["content-type"] == "text/event-stream"
        data = (line for line in response.iter_lines() if line.startswith("data:"))
        # Read while the upstream still holds its answer: a buffering proxy would time out here instead.
        assert next(data) == "data: first"
        upstream.release.set()
        assert list(data) == ["data: second"]


def test_a_named_origin_needs_a_resolver_for_nginx() -> None:
    policy = managed(["https://mcp.riverside.example", "http://10.0.0.5:8080"])
    with pytest.raises(BundleError, match=r"name hosts \(mcp\.riverside\.example\) that nginx must resolve"):
        BundleSpec(policy=policy)
    assert BundleSpec(policy=policy, resolvers=("127.0.0.53",)).resolvers == ("127.0.0.53",)
    with pytest.raises(
        BundleError, match=r"--resolver 'dns\.example' must be the IP address of a DNS server"
    ):
        BundleSpec(policy=policy, resolvers=("dns.example",))


@pytest.mark.parametrize("kind", KINDS)
def test_http_and_https_of_one_host_are_routed_apart(tmp_path: Path, kind: str, upstream: Upstream) -> None:
    """Both schemes of the upstream's host and port are listed: http reaches it; https speaks TLS to it, which the
    plain-HTTP upstream cannot answer, so that route fails as unreachable instead of landing on the http one."""
    require(kind)
    port = free_port()
    https_origin = f"https://127.0.0.1:{upstream.port}"
    root = write_site(tmp_path / "b", port, managed([upstream.origin, https_origin]))
    server = WebServer(kind, root, port, tmp_path / "w")
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers=RELAY, timeout=STATE_TIMEOUT_S) as client:
            plain = client.get(f"/relay/http/127.0.0.1:{upstream.port}/mcp")
            assert plain.status_code == 200 and plain.headers[TARGET_HEADER] == upstream.origin
            assert_relay_error(client.get(f"/relay/https/127.0.0.1:{upstream.port}/mcp"), 502, "unreachable")
            unlisted = client.get(f"/relay/https/127.0.0.1:{free_port()}/mcp")
            assert unlisted.status_code == 404 and TARGET_HEADER not in unlisted.headers
    finally:
        server.stop()
    assert [seen.target for seen in upstream.seen] == ["/mcp"]


@pytest.mark.parametrize(
    "origin", ["https://mcp.riverside.example", "http://mcp.riverside.example", "http://[fd00::1]:8080"]
)
def test_a_route_is_the_path_satchel_serve_reads_as_its_origin(origin: str) -> None:
    """The app builds one relay form for both (remote-fetch.js); a bundle's route and `satchel serve` agree on it."""
    path = f"{RelayRoute(origin).path}mcp"
    request = Request({"type": "http", "path": path, "raw_path": path.encode(), "query_string": b"x=1"})
    assert parse_target(request) == Target(origin, b"/mcp?x=1")


def test_the_kiosk_doc_lists_the_relay_routes() -> None:
    spec = BundleSpec(policy=managed(["https://mcp.riverside.example"]), resolvers=("127.0.0.53",))
    doc = kiosk_doc(spec)
    assert "`/relay/https/mcp.riverside.example/` → https://mcp.riverside.example" in doc
    assert "through 127.0.0.53 when a request comes" in doc
    assert "- remote servers' origins: https://mcp.riverside.example; users may add servers: yes" in doc


def test_bundle_cli_names_the_missing_resolver(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('organization = "A"\n[servers]\norigins = ["https://mcp.example.org"]\n')
    result = CliRunner().invoke(main, ["bundle", "--out", str(tmp_path / "b"), "--policy", str(policy_file)])
    assert result.exit_code == 1
    assert "give the DNS server it should ask, e.g. --resolver 127.0.0.53" in result.output
    assert not (tmp_path / "b").exists()
