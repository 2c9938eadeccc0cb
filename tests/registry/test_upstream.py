"""Upstream registries are merged into the list; one that fails is reported in the answer, never fatal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from satchel.registry import UPSTREAM_ERRORS_KEY, registry_routes, remote_server
from satchel.registry.schema import OFFICIAL_META_KEY, server_list_problems
from satchel.registry.upstream import UpstreamRegistries, list_url
from tests.support.ports import free_port
from tests.support.registry_entries import serve_registry, upstream_entry

WORKSPACE = remote_server(
    "io.satchel/workspace", "Notes synced from the browser", "0.1.0", url="/mcp/workspace"
)
UPSTREAM_URL = "https://registry.example.org"


class FakeRegistry:
    """An upstream registry answering from a list, in pages, recording every request it gets."""

    def __init__(self, entries: list[dict[str, Any]], page_size: int = 100) -> None:
        self.entries = entries
        self.page_size = page_size
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        start = int(request.url.params.get("cursor", "0"))
        page = self.entries[start : start + self.page_size]
        metadata: dict[str, Any] = {"count": len(page)}
        if start + self.page_size < len(self.entries):
            metadata["nextCursor"] = str(start + self.page_size)
        return httpx.Response(200, json={"servers": page, "metadata": metadata})


def app_with(upstreams: list[str], handler: Callable[[httpx.Request], httpx.Response] | None) -> TestClient:
    transport = httpx.MockTransport(handler) if handler else None
    routes = registry_routes(
        [WORKSPACE], upstreams, updated_at=datetime(2026, 11, 1, tzinfo=UTC), upstream_transport=transport
    )
    return TestClient(Starlette(routes=routes))


def test_upstream_entries_are_merged_and_keep_their_own_meta() -> None:
    fake = FakeRegistry(
        [upstream_entry("org.example/files", "2.0.0"), upstream_entry("org.example/maps", "1.0.0")]
    )
    with app_with([UPSTREAM_URL], fake) as client:
        body = client.get("/v0.1/servers").json()
    assert server_list_problems(body) == []
    assert [e["server"]["name"] for e in body["servers"]] == [
        "io.satchel/workspace",
        "org.example/files",
        "org.example/maps",
    ]
    assert body["servers"][1] == fake.entries[0]
    assert body["metadata"][UPSTREAM_ERRORS_KEY] == []
    assert (
        str(fake.requests[0].url)
        == "https://registry.example.org/v0.1/servers?limit=100&include_deleted=true"
    )


def test_bundled_entries_win_a_name_clash() -> None:
    fake = FakeRegistry(
        [upstream_entry("io.satchel/workspace", "9.0.0"), upstream_entry("org.example/a", "1.0.0")]
    )
    with app_with([UPSTREAM_URL], fake) as client:
        body = client.get("/v0.1/servers").json()
        latest = client.get("/v0.1/servers/io.satchel%2Fworkspace/versions/latest").json()
    workspaces = [e["server"] for e in body["servers"] if e["server"]["name"] == "io.satchel/workspace"]
    assert workspaces == [
        dict(WORKSPACE, remotes=[{"type": "streamable-http", "url": "http://testserver/mcp/workspace"}])
    ]
    assert latest["server"]["version"] == "0.1.0"


def test_upstream_versions_can_be_looked_up_by_name() -> None:
    older = upstream_entry("org.example/a", "1.0.0")
    older["_meta"][OFFICIAL_META_KEY]["isLatest"] = False
    fake = FakeRegistry([older, upstream_entry("org.example/a", "1.1.0")])
    with app_with([UPSTREAM_URL], fake) as client:
        latest = client.get("/v0.1/servers/org.example%2Fa/versions/latest").json()
        versions = client.get("/v0.1/servers/org.example%2Fa/versions").json()
    assert latest == fake.entries[1]
    assert [e["server"]["version"] for e in versions["servers"]] == ["1.1.0", "1.0.0"]


def test_every_upstream_page_is_read() -> None:
    fake = FakeRegistry([upstream_entry(f"org.example/s{i:02}", "1.0.0") for i in range(7)], page_size=3)
    with app_with([UPSTREAM_URL], fake) as client:
        body = client.get("/v0.1/servers?limit=100").json()
    assert body["metadata"]["count"] == 8
    assert [r.url.params.get("cursor") for r in fake.requests] == [None, "3", "6"]


def test_updated_since_filters_the_merge_here_and_is_not_passed_upstream() -> None:
    fake = FakeRegistry(
        [
            upstream_entry("org.example/new", "1.0.0", updated="2026-11-20T00:00:00Z"),
            upstream_entry("org.example/old", "1.0.0", updated="2026-11-01T00:00:00Z"),
        ]
    )
    with app_with([UPSTREAM_URL], fake) as client:
        body = client.get("/v0.1/servers?updated_since=2026-11-10T00:00:00Z").json()
    assert "updated_since" not in fake.requests[0].url.params
    assert [e["server"]["name"] for e in body["servers"]] == ["org.example/new"]


def test_distinct_updated_since_values_do_not_multiply_upstream_fetches() -> None:
    seen: list[str] = []
    entries = [
        upstream_entry("org.example/new", "1.0.0", updated="2026-11-20T00:00:00Z"),
        upstream_entry("org.example/old", "1.0.0", updated="2026-10-01T00:00:00Z"),
    ]
    with serve_registry(entries, seen) as upstream:
        routes = registry_routes([WORKSPACE], [upstream], updated_at=datetime(2026, 11, 1, tzinfo=UTC))
        with TestClient(Starlette(routes=routes)) as client:
            answers = [
                client.get(f"/v0.1/servers?updated_since=2026-11-{day:02}T{hour:02}:00:00Z").json()
                for day in range(1, 26)
                for hour in range(0, 24, 12)
            ]
    assert seen == ["/v0.1/servers?limit=100&include_deleted=true"]
    names = [[e["server"]["name"] for e in answer["servers"]] for answer in answers]
    assert names[0] == ["org.example/new"]  # the bundled workspace is stamped 2026-11-01T00:00:00Z
    assert names[-1] == []


def test_an_unreachable_upstream_is_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, "satchel.registry.upstream"), app_with([dead], None) as client:
        response = client.get("/v0.1/servers")
    assert f"upstream registry {dead}: unreachable" in caplog.text
    assert response.status_code == 200
    body = response.json()
    assert [e["server"]["name"] for e in body["servers"]] == ["io.satchel/workspace"]
    [error] = body["metadata"][UPSTREAM_ERRORS_KEY]
    assert error["url"] == dead
    assert error["error"].startswith("unreachable (ConnectError")


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(500, text="boom"), "answered HTTP 500"),
        (httpx.Response(200, text="<html>maintenance</html>"), "malformed response: body is not JSON"),
        (httpx.Response(200, json={"items": []}), "malformed response: no 'servers' array"),
        (
            httpx.Response(200, json={"servers": [], "metadata": []}),
            "malformed response: 'metadata' is not an object",
        ),
    ],
)
def test_a_malformed_upstream_is_reported_and_the_others_still_count(
    response: httpx.Response, error: str
) -> None:
    good = FakeRegistry([upstream_entry("org.example/good", "1.0.0")])

    def handler(request: httpx.Request) -> httpx.Response:
        return good(request) if request.url.host == "good.example.org" else response

    with app_with(["https://bad.example.org", "https://good.example.org"], handler) as client:
        body = client.get("/v0.1/servers").json()
    assert [e["server"]["name"] for e in body["servers"]] == ["io.satchel/workspace", "org.example/good"]
    assert body["metadata"][UPSTREAM_ERRORS_KEY] == [{"url": "https://bad.example.org", "error": error}]


def test_invalid_upstream_entries_are_skipped_and_reported() -> None:
    bad_name = upstream_entry("no-slash", "1.0.0")
    bad_remote = upstream_entry(
        "org.example/ftp", "1.0.0", remotes=[{"type": "streamable-http", "url": "ftp://x"}]
    )
    fake = FakeRegistry([bad_name, upstream_entry("org.example/ok", "1.0.0"), bad_remote])
    with app_with([UPSTREAM_URL], fake) as client:
        body = client.get("/v0.1/servers").json()
    assert [e["server"]["name"] for e in body["servers"]] == ["io.satchel/workspace", "org.example/ok"]
    [error] = body["metadata"][UPSTREAM_ERRORS_KEY]
    assert error["error"].startswith("skipped 2 invalid entries: no-slash (/server/name: must match")
    assert "org.example/ftp (/server/remotes/0/url: must match" in error["error"]


def test_our_own_registry_can_be_an_upstream() -> None:
    other = Starlette(
        routes=registry_routes([remote_server("org.example/notes", "Notes", "3.0.0", url="/mcp")])
    )
    transport = httpx.ASGITransport(app=other)
    routes = registry_routes([WORKSPACE], ["http://other.test"], upstream_transport=transport)
    with TestClient(Starlette(routes=routes)) as client:
        body = client.get("/v0.1/servers").json()
    assert body["metadata"][UPSTREAM_ERRORS_KEY] == []
    notes = body["servers"][1]["server"]
    assert notes["remotes"] == [{"type": "streamable-http", "url": "http://other.test/mcp"}]


def test_each_upstream_is_cached_for_the_ttl() -> None:
    fake = FakeRegistry([upstream_entry("org.example/a", "1.0.0")])
    now = [0.0]
    upstreams = UpstreamRegistries(
        [UPSTREAM_URL], ttl=60, transport=httpx.MockTransport(fake), clock=lambda: now[0]
    )

    async def scenario() -> None:
        await upstreams.fetch()
        now[0] = 59
        await upstreams.fetch()
        assert len(fake.requests) == 1
        now[0] = 61
        entries, errors = await upstreams.fetch()
        assert len(fake.requests) == 2
        assert [e.name for e in entries] == ["org.example/a"] and errors == []

    anyio.run(scenario)


def test_a_failure_is_retried_sooner_than_a_good_answer_expires() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503) if len(calls) == 1 else httpx.Response(200, json={"servers": []})

    now = [0.0]
    upstreams = UpstreamRegistries(
        [UPSTREAM_URL], ttl=600, transport=httpx.MockTransport(flaky), clock=lambda: now[0]
    )

    async def scenario() -> None:
        _, errors = await upstreams.fetch()
        assert [e.error for e in errors] == ["answered HTTP 503"]
        now[0] = 16
        _, errors = await upstreams.fetch()
        assert errors == []
        assert len(calls) == 2

    anyio.run(scenario)


def test_list_url_accepts_a_base_url_or_the_list_url() -> None:
    assert list_url("https://r.example/") == "https://r.example/v0.1/servers"
    assert list_url("https://r.example/v0.1/servers") == "https://r.example/v0.1/servers"
