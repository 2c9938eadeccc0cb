"""`satchel serve`'s `/relay/<scheme>/<host[:port]>/<path>`: what it forwards and returns (the path and query as
sent), whom it refuses (other origins, private addresses, targets outside the policy), its limits, and streams passed
on as they arrive — against real upstream servers and the real app served by uvicorn on free ports."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from satchel.cli import main
from satchel.policy import parse_policy_toml
from satchel.relay import CUT_OFF_EVENT, ERROR_HEADER, TARGET_HEADER, RelayConfig, RelayLimits
from satchel.relay_guard import AddressRules
from satchel.server import create_app
from tests.support.ports import free_port, stop_process, wait_until_listening
from tests.support.relay_upstream import STATE_TIMEOUT_S, Upstream

RELAY = {"X-Satchel-Relay": "1"}


class AppServer:
    """The Satchel app served by uvicorn in a thread on a free port."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + STATE_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(STATE_TIMEOUT_S)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A site to serve: the relay needs no build, only a site folder."""
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>Satchel</title>\n")
    return folder


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as running:
        yield running


RelayClient = Callable[..., httpx.Client]


@pytest.fixture
def relay(dist: Path) -> Iterator[RelayClient]:
    """Start the app with a relay configured by the keyword arguments; a client for it, sending X-Satchel-Relay."""
    servers: list[AppServer] = []
    clients: list[httpx.Client] = []

    def start(
        *,
        allow_private: bool = True,
        allowed_hosts: Sequence[str] = (),
        relay_header: bool = True,
        **config: Any,
    ) -> httpx.Client:
        rules = AddressRules.create(allow_private=allow_private, allowed_hosts=allowed_hosts)
        server = AppServer(create_app(dist, relay=RelayConfig(rules=rules, **config))).__enter__()
        servers.append(server)
        client = httpx.Client(
            base_url=server.url, headers=RELAY if relay_header else {}, timeout=STATE_TIMEOUT_S
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.__exit__()


def relay_path(url: str) -> str:
    """The relay's path for `url`, built as the app builds it (app/common/remote-fetch.js)."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"/relay/{parts.scheme}/{parts.netloc}{parts.path or '/'}{query}"


def relayed(client: httpx.Client, method: str, url: str, **options: Any) -> httpx.Response:
    return client.request(method, relay_path(url), **options)


def assert_relay_error(response: httpx.Response, status: int, kind: str, message: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers[ERROR_HEADER] == kind
    assert message in response.json()["error"]


# What goes through, and how.


def test_post_is_forwarded_with_its_body_and_the_allowed_headers_only(
    relay: RelayClient, upstream: Upstream
) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo"}}
    response = relayed(
        relay(),
        "POST",
        upstream.url("/mcp?tenant=7"),
        json=call,
        headers={
            "Accept": "application/json, text/event-stream",
            "Authorization": "Bearer token-1",
            "Mcp-Protocol-Version": "2025-11-25",
            "Mcp-Session-Id": "session-1",
            "Mcp-Method": "tools/call",
            "Mcp-Name": "echo",
            "Last-Event-Id": "41",
            "Cookie": "satchel-session=mine",
            "X-Private": "not for them",
            "Origin": "http://127.0.0.1",
        },
    )
    assert response.status_code == 200 and response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    [seen] = upstream.seen
    assert (seen.method, seen.target, json.loads(seen.body)) == ("POST", "/mcp?tenant=7", call)
    assert seen.headers == {
        "host": [f"127.0.0.1:{upstream.port}"],
        "accept": ["application/json, text/event-stream"],
        "accept-encoding": ["identity"],
        "content-type": ["application/json"],
        "content-length": [str(len(seen.body))],
        "authorization": ["Bearer token-1"],
        "mcp-protocol-version": ["2025-11-25"],
        "mcp-session-id": ["session-1"],
        "mcp-method": ["tools/call"],
        "mcp-name": ["echo"],
        "last-event-id": ["41"],
        "user-agent": ["satchel-relay"],
    }


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_forwarded(relay: RelayClient, upstream: Upstream, method: str) -> None:
    response = relayed(relay(), method, upstream.url("/mcp"), headers={"Mcp-Session-Id": "s"})
    assert response.status_code == 200
    assert [(seen.method, seen.body, seen.headers["mcp-session-id"]) for seen in upstream.seen] == [
        (method, b"", ["s"])
    ]


def test_only_the_allowed_response_headers_come_back_and_cookies_stay_upstream(
    relay: RelayClient, upstream: Upstream
) -> None:
    client = relay()
    first = relayed(client, "POST", upstream.url("/mcp"), json={})
    assert first.headers["content-type"] == "application/json"
    assert first.headers["mcp-session-id"] == "session-1"
    assert first.headers[TARGET_HEADER] == upstream.origin
    for name in ("set-cookie", "x-internal", "access-control-allow-origin", ERROR_HEADER):
        assert name not in first.headers, name
    assert first.headers.get_list("server") == ["uvicorn"]  # the relay's own, not the upstream's BaseHTTP
    # The upstream's cookie went nowhere: not to the page, and not into a jar the next request would send it from.
    relayed(client, "POST", upstream.url("/mcp"), json={})
    assert [seen.headers.get("cookie") for seen in upstream.seen] == [None, None]


def test_the_path_and_query_reach_the_upstream_byte_for_byte(relay: RelayClient, upstream: Upstream) -> None:
    rest = "/a%2Fb/c%20d/%7e%41/%2e%2e/tools;v=1,2?q=%7e%41&next=%2Fhome&&x+y=a=b&empty="
    response = relay().post(f"/relay/http/127.0.0.1:{upstream.port}{rest}", json={})
    assert response.status_code == 200, response.text
    assert [seen.target for seen in upstream.seen] == [rest]


@pytest.mark.parametrize(
    ("path", "target"),
    [("", "/"), ("/", "/"), ("?tenant=7", "/?tenant=7")],
)
def test_an_empty_path_is_the_root(relay: RelayClient, upstream: Upstream, path: str, target: str) -> None:
    response = relay().get(f"/relay/http/127.0.0.1:{upstream.port}{path}")
    assert response.status_code == 200, response.text
    assert [seen.target for seen in upstream.seen] == [target]


def test_the_upstream_status_and_challenge_come_back_as_they_are(
    relay: RelayClient, upstream: Upstream
) -> None:
    response = relayed(relay(), "POST", upstream.url("/auth"), json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer resource_metadata="https://auth.example/')
    assert ERROR_HEADER not in response.headers


def test_a_redirect_is_passed_back_not_followed(relay: RelayClient, upstream: Upstream) -> None:
    response = relayed(relay(), "GET", upstream.url("/redirect"))
    assert response.status_code == 307 and response.headers["location"] == "/elsewhere?code=1"
    assert [seen.target for seen in upstream.seen] == ["/redirect"]


# Who may use it, and for what.


def test_a_request_without_the_relay_header_is_forbidden(relay: RelayClient, upstream: Upstream) -> None:
    client = relay(relay_header=False)
    assert_relay_error(
        relayed(client, "POST", upstream.url("/mcp"), json={}), 403, "forbidden", "X-Satchel-Relay"
    )
    for value in ("0", "true"):
        response = relayed(client, "POST", upstream.url("/mcp"), headers={"X-Satchel-Relay": value})
        assert_relay_error(response, 403, "forbidden")
    # The preflight another origin's page would need is never granted.
    preflight = client.options(
        relay_path(upstream.url("/mcp")),
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Headers": "x-satchel-relay"},
    )
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers
    assert upstream.seen == []


FORM = "name the server as /relay/<http|https>/<host[:port]>/<path>?<query>"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/relay/", f"the scheme '' is not http or https: {FORM}"),
        ("/relay/ftp/files.example/mcp", f"the scheme 'ftp' is not http or https: {FORM}"),
        ("/relay/file/etc/passwd", "the scheme 'file' is not http or https"),
        ("/relay/HTTPS/mcp.example/", "the scheme 'HTTPS' is not http or https"),
        ("/relay/https%3A/mcp.example/", "the scheme 'https%3A' is not http or https"),
        ("/relay/https", f"no host is named: {FORM}"),
        ("/relay/https/", "no host is named"),
        ("/relay/https//mcp", "no host is named"),
        ("/relay/http/host.example:99999/", "the target's port '99999' is not a TCP port (1-65535)"),
        ("/relay/http/host.example:0/", "the target's port '0' is not a TCP port"),
        ("/relay/http/host.example:/", "the target's port '' is not a TCP port"),
        ("/relay/http/host.example:8o/", "the target's port '8o' is not a TCP port"),
        ("/relay/http/exa mple.org/", "the host 'exa%20mple.org' is not a host name or IP address"),
        ("/relay/http/:8080/", "the host ':8080' is not a host name or IP address"),
        ("/relay/http/[zz]/", "the host '[zz]' is not"),
        ("/relay/http/::1/", "an IPv6 address in brackets"),
        ("/relay/http/[fe80::1%25eth0]/", "the host '[fe80::1%25eth0]' is not"),
        ("/relay/https/b%C3%BCcher.example/", "an international name in its DNS form, xn--"),
        ("/relay/https/user:pw@mcp.example/", "send them in the Authorization header"),
        ("/relay/https/mcp.example/" + "a" * 9000, "the target is longer than 8192 characters"),
        ("/relay/https/mcp.example/?" + "a" * 9000, "the target is longer than 8192 characters"),
    ],
)
def test_a_path_not_of_the_relay_form_is_invalid(relay: RelayClient, path: str, message: str) -> None:
    assert_relay_error(relay().post(path), 400, "invalid", message)


def test_the_url_query_parameter_names_no_target(relay: RelayClient, upstream: Upstream) -> None:
    response = relay().get("/relay", params={"url": upstream.url("/mcp")})
    assert response.status_code == 404 and ERROR_HEADER not in response.headers
    assert upstream.seen == []


def test_head_and_options_are_not_relayed(relay: RelayClient, upstream: Upstream) -> None:
    client = relay()
    assert client.head(relay_path(upstream.url("/mcp"))).status_code == 405
    assert client.options(relay_path(upstream.url("/mcp"))).status_code == 405
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("[::1]", "::1 is a loopback address"),
        ("10.0.0.1", "10.0.0.1 is a private address"),
        ("192.168.1.20", "192.168.1.20 is a private address"),
        ("[fd00::1]", "fd00::1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("[fe80::1]", "fe80::1 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is a carrier-grade NAT address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("[::ffff:127.0.0.1]", "is a loopback address in IPv6 form (127.0.0.1)"),
        ("[::ffff:a9fe:a9fe]", "is a link-local address in IPv6 form (169.254.169.254)"),
        ("localhost", "localhost resolves to a loopback address"),
    ],
)
def test_private_addresses_are_refused(relay: RelayClient, host: str, message: str) -> None:
    response = relayed(relay(allow_private=False), "POST", f"http://{host}:8470/mcp", json={})
    assert_relay_error(response, 403, "refused", message)
    assert response.json()["error"].endswith(
        "; the operator did not allow private addresses "
        "(satchel serve --relay-allow-private, or --relay-allow-host for this host)"
    )


def test_allow_private_lets_the_relay_reach_this_machine(relay: RelayClient, upstream: Upstream) -> None:
    response = relayed(relay(allow_private=True), "GET", upstream.url("/mcp"))
    assert response.status_code == 200 and len(upstream.seen) == 1


def test_an_allowed_host_is_reached_and_no_other_private_one(relay: RelayClient, upstream: Upstream) -> None:
    client = relay(allow_private=False, allowed_hosts=["LocalHost"])
    reached = relayed(client, "GET", upstream.url("/mcp", host="localhost"))
    assert reached.status_code == 200
    assert upstream.seen[0].headers["host"] == [f"localhost:{upstream.port}"]
    assert_relay_error(relayed(client, "GET", upstream.url("/mcp")), 403, "refused", "loopback")
    assert len(upstream.seen) == 1


def test_the_connection_goes_to_the_address_that_was_checked(relay: RelayClient, upstream: Upstream) -> None:
    # Only the relay's resolver knows this name: if anything resolved it again to connect, it would fail.
    resolved: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"] if host == "mcp.satchel.test" else []

    client = relay(allow_private=False, allowed_hosts=["mcp.satchel.test"], resolver=resolver)
    response = relayed(client, "GET", upstream.url("/mcp", host="mcp.satchel.test"))
    assert response.status_code == 200
    assert upstream.seen[0].headers["host"] == [f"mcp.satchel.test:{upstream.port}"]
    assert response.headers[TARGET_HEADER] == f"http://mcp.satchel.test:{upstream.port}"
    assert resolved == ["mcp.satchel.test"]


def test_a_name_with_one_private_address_among_public_ones_is_refused(relay: RelayClient) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]

    response = relayed(relay(allow_private=False, resolver=resolver), "GET", "https://mixed.example/mcp")
    assert_relay_error(response, 403, "refused", "mixed.example resolves to a private address 10.1.2.3")


def test_unreachable_upstreams_are_reported_as_such(relay: RelayClient) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        if host == "gone.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["127.0.0.1"]

    client = relay(resolver=resolver)
    assert_relay_error(
        relayed(client, "GET", "https://gone.example/mcp"), 502, "unreachable", "cannot resolve gone.example"
    )
    closed_port = free_port()
    assert_relay_error(
        relayed(client, "GET", f"http://127.0.0.1:{closed_port}/mcp"),
        502,
        "unreachable",
        f"http://127.0.0.1:{closed_port} cannot be reached",
    )


def test_an_international_name_is_checked_and_shown_in_its_dns_form(
    relay: RelayClient, upstream: Upstream
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "xn--bcher-kva.example" else []

    client = relay(allow_private=False, allowed_hosts=["xn--bcher-kva.example"], resolver=resolver)
    # As a browser writes the origin of http://bücher.example:port/ (`new URL(url).host`).
    response = relayed(client, "GET", upstream.url("/mcp", host="xn--bcher-kva.example"))
    assert response.status_code == 200
    assert response.headers[TARGET_HEADER] == f"http://xn--bcher-kva.example:{upstream.port}"
    assert upstream.seen[0].headers["host"] == [f"xn--bcher-kva.example:{upstream.port}"]


def test_the_policy_origins_are_the_only_targets(dist: Path, relay: RelayClient, upstream: Upstream) -> None:
    other = "http://127.0.0.1:9"
    policy = f'organization = "Riverside Clinic"\n[servers]\norigins = ["{other}"]\n'
    (dist / "policy.json").write_bytes(parse_policy_toml(policy).json_bytes())
    client = relay()
    assert_relay_error(
        relayed(client, "GET", upstream.url("/mcp")),
        403,
        "refused",
        f"{upstream.origin} is not one of the origins Riverside Clinic's policy allows",
    )
    policy = policy.replace(other, upstream.origin)
    (dist / "policy.json").write_bytes(parse_policy_toml(policy).json_bytes())
    assert relayed(client, "GET", upstream.url("/mcp")).status_code == 200


@pytest.mark.parametrize(
    ("path", "origin"),
    [
        ("/relay/https/mcp.example:443/mcp", "https://mcp.example"),
        ("/relay/http/mcp.example:80/mcp", "http://mcp.example"),
        ("/relay/http/mcp.example:443/mcp", "http://mcp.example:443"),
        ("/relay/https/MCP.Example:08443", "https://mcp.example:8443"),
        ("/relay/http/[FD00:0:0::1]:8080/mcp", "http://[fd00::1]:8080"),
    ],
)
def test_the_target_origin_is_compared_as_browsers_write_it(
    dist: Path, relay: RelayClient, path: str, origin: str
) -> None:
    policy = 'organization = "Riverside Clinic"\n[servers]\norigins = ["https://other.example"]\n'
    (dist / "policy.json").write_bytes(parse_policy_toml(policy).json_bytes())
    response = relay().get(path)
    assert_relay_error(
        response, 403, "refused", f"{origin} is not one of the origins Riverside Clinic's policy allows"
    )


# Limits.

SMALL = RelayLimits(request_body_bytes=1024, response_body_bytes=1024, headers_s=0.5, idle_s=0.5)


def test_a_request_body_over_the_limit_is_refused(relay: RelayClient, upstream: Upstream) -> None:
    client = relay(limits=SMALL)
    assert relayed(client, "POST", upstream.url("/mcp"), content=b"x" * 1024).status_code == 200
    assert_relay_error(
        relayed(client, "POST", upstream.url("/mcp"), content=b"x" * 1025), 413, "too-large", "1024 bytes"
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams in
        yield from (b"x" * 600, b"x" * 600)

    assert_relay_error(relayed(client, "POST", upstream.url("/mcp"), content=chunks()), 413, "too-large")
    assert [len(seen.body) for seen in upstream.seen] == [1024]


def _read_http_response(sock: socket.socket) -> str:
    """One HTTP/1.1 response with a Content-Length, read whole from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _content_length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


def _content_length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_request_body_that_does_not_arrive_in_time_is_a_timeout(
    relay: RelayClient, upstream: Upstream
) -> None:
    client = relay(limits=dataclasses.replace(SMALL, request_body_s=0.5))
    port = httpx.URL(str(client.base_url)).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=STATE_TIMEOUT_S) as sock:
        # Ten bytes of the hundred announced, then nothing: the relay must not wait for the rest forever.
        sock.sendall(
            f"POST {relay_path(upstream.url('/mcp'))} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Satchel-Relay: 1\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"'.encode()
        )
        answer = _read_http_response(sock)
    assert answer.startswith("HTTP/1.1 408 ")
    assert "x-satchel-relay-error: timeout" in answer.lower()
    assert "the request body did not arrive within 0.5 s" in answer
    assert upstream.seen == []


def test_an_upstream_that_does_not_answer_in_time_is_a_timeout(
    relay: RelayClient, upstream: Upstream
) -> None:
    response = relayed(relay(limits=SMALL), "GET", upstream.url("/slow"))
    assert_relay_error(response, 504, "timeout", f"{upstream.origin} did not answer within 0.5 s")


def test_a_response_over_the_limit_is_cut_off(relay: RelayClient, upstream: Upstream) -> None:
    client = relay(limits=SMALL)
    with client.stream("GET", relay_path(upstream.url("/big"))) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_an_event_stream_over_the_limit_ends_with_an_error_event_and_breaks(
    relay: RelayClient, upstream: Upstream
) -> None:
    client = relay(limits=SMALL)
    lines: list[str] = []
    with (
        client.stream("GET", relay_path(upstream.url("/flood"))) as response,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        lines.extend(response.iter_lines())
    assert f"event: {CUT_OFF_EVENT}" in lines
    error = json.loads(lines[lines.index(f"event: {CUT_OFF_EVENT}") + 1].removeprefix("data: "))
    assert error == {"error": "the response is larger than 1024 bytes", "kind": "too-large"}


# Streams.


def test_an_event_reaches_the_client_while_the_upstream_holds_the_stream_open(
    relay: RelayClient, upstream: Upstream
) -> None:
    client = relay()
    with client.stream("GET", relay_path(upstream.url("/sse"))) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        data = (line for line in response.iter_lines() if line.startswith("data:"))
        # Read while the upstream still holds its answer: a buffering relay would time out here instead.
        assert next(data) == "data: first"
        assert not upstream.release.is_set()
        upstream.release.set()
        assert list(data) == ["data: second"]


def test_a_client_that_leaves_closes_the_upstream_request(relay: RelayClient, upstream: Upstream) -> None:
    client = relay()
    with client.stream("GET", relay_path(upstream.url("/sse"))) as response:
        assert next(line for line in response.iter_lines() if line.startswith("data:")) == "data: first"
    assert upstream.closed.wait(STATE_TIMEOUT_S), "the upstream request stayed open"


def test_an_idle_stream_is_closed(relay: RelayClient, upstream: Upstream) -> None:
    client = relay(limits=SMALL)
    lines: list[str] = []
    with (
        client.stream("GET", relay_path(upstream.url("/sse"))) as response,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        lines.extend(response.iter_lines())
    assert "data: first" in lines and f"event: {CUT_OFF_EVENT}" in lines
    assert "sent nothing for 0.5 s" in lines[lines.index(f"event: {CUT_OFF_EVENT}") + 1]
    assert upstream.closed.wait(STATE_TIMEOUT_S)


# What is logged.


def test_tokens_in_the_url_and_the_authorization_header_are_never_logged(
    relay: RelayClient, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = relay(limits=SMALL)
    relayed(
        client,
        "POST",
        upstream.url("/mcp?access_token=url-secret"),
        headers={"Authorization": "Bearer h-secret"},
    )
    relayed(
        client,
        "GET",
        upstream.url("/slow?access_token=url-secret"),
        headers={"Authorization": "Bearer h-secret"},
    )
    # What the app logged: its thread's records, not this test's own client's.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.thread != threading.get_ident())
    assert upstream.origin in logged
    assert "url-secret" not in logged and "h-secret" not in logged


# The command line.


SERVE = (sys.executable, "-m", "satchel", "serve")


def test_the_relay_is_on_by_default_and_off_with_no_relay(
    dist: Path, tmp_path: Path, upstream: Upstream
) -> None:
    for flags, status in (["--relay-allow-host", "localhost"], 200), (["--no-relay"], 404):
        port = free_port()
        log_path = tmp_path / f"serve-{port}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*SERVE, "--dist", str(dist), "--port", str(port), "--db", str(tmp_path / "db"), *flags],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            wait_until_listening(proc, port, "satchel serve", log_path)
            url = upstream.url("/mcp", host="localhost")
            response = httpx.get(f"http://127.0.0.1:{port}{relay_path(url)}", headers=RELAY)
            assert response.status_code == status, (flags, response.text)
        finally:
            stop_process(proc, signal.SIGINT)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--no-relay", "--relay-allow-private"],
            "--relay-allow-private and --relay-allow-host need the relay",
        ),
        (["--relay-allow-host", "https://mcp.example/"], "is not a host name: give the name alone"),
    ],
)
def test_relay_options_that_cannot_work_are_usage_errors(dist: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--dist", str(dist), "--port", "0", *args])
    assert result.exit_code == 2 and message in result.output


def test_serve_help_says_what_the_relay_options_do() -> None:
    text = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    assert "--no-relay Switch off /relay" in text
    assert "--relay-allow-private Let the relay reach loopback, private" in text
    assert (
        "--relay-allow-host HOST A host name the relay may reach even when it resolves to a private" in text
    )
