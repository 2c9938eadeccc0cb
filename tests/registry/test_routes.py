"""The registry API serves the bundled servers in the official format: paged, filtered, looked up by name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from satchel.registry import LocalFile, ServerJsonError, local_server, registry_routes, remote_server
from satchel.registry.schema import OFFICIAL_META_KEY, server_list_problems, server_response_problems

STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WHEEL = LocalFile("/wheels/satchel_tools-0.1.0-py3-none-any.whl", "ab" * 32, 48213)

WORKSPACE = remote_server(
    "io.satchel/workspace", "Notes and results synced from the browser", "0.1.0", url="/mcp/workspace"
)
ECHO_OLD = local_server(
    "io.satchel/echo", "Echo and time tools", "0.1.0", worker="pyodide-server", files=[WHEEL]
)
ECHO_NEW = local_server(
    "io.satchel/echo", "Echo and time tools", "0.2.0", worker="pyodide-server", files=[WHEEL]
)
WHISPER = local_server(
    "io.satchel/whisper",
    "Speech to text in the page",
    "1.0.0-beta.1",
    worker="wasi-server",
    files=[LocalFile("/wasm/whisper-server.wasm", "cd" * 32, 1_500_000)],
    title="Whisper",
)
BUNDLED = [WORKSPACE, ECHO_OLD, ECHO_NEW, WHISPER]


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = Starlette(routes=registry_routes(BUNDLED, updated_at=STAMP))
    with TestClient(app) as test_client:
        yield test_client


def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def names_and_versions(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["server"]["name"], e["server"]["version"]) for e in body["servers"]]


def test_list_follows_the_server_list_schema(client: TestClient) -> None:
    body = get_json(client, "/v0.1/servers")
    assert server_list_problems(body) == []
    assert body["metadata"] == {"count": 4}
    assert sorted(names_and_versions(body)) == sorted((d["name"], d["version"]) for d in BUNDLED)


def test_remote_path_is_served_as_an_absolute_url_on_the_request_origin(client: TestClient) -> None:
    body = get_json(client, "/v0.1/servers?search=workspace")
    assert body["servers"][0]["server"]["remotes"] == [
        {"type": "streamable-http", "url": "http://testserver/mcp/workspace"}
    ]
    other = get_json(client, "http://127.0.0.1:8470/v0.1/servers?search=workspace")
    assert other["servers"][0]["server"]["remotes"][0]["url"] == "http://127.0.0.1:8470/mcp/workspace"


def test_local_servers_carry_their_worker_and_pinned_files(client: TestClient) -> None:
    body = get_json(client, "/v0.1/servers?search=whisper")
    local = body["servers"][0]["server"]["_meta"]["io.satchel/local"]
    assert local == {
        "worker": "wasi-server",
        "files": [{"url": "/wasm/whisper-server.wasm", "sha256": "cd" * 32, "size": 1_500_000}],
    }


def test_official_meta_marks_the_latest_version(client: TestClient) -> None:
    body = get_json(client, "/v0.1/servers?search=echo")
    official = {e["server"]["version"]: e["_meta"][OFFICIAL_META_KEY] for e in body["servers"]}
    assert official["0.2.0"] == {
        "status": "active",
        "publishedAt": "2026-11-01T12:00:00.000Z",
        "updatedAt": "2026-11-01T12:00:00.000Z",
        "isLatest": True,
    }
    assert official["0.1.0"]["isLatest"] is False


def test_pages_walk_the_whole_list_once(client: TestClient) -> None:
    seen: list[tuple[str, str]] = []
    url = "/v0.1/servers?limit=1"
    for _ in range(len(BUNDLED) + 1):
        body = get_json(client, url)
        assert body["metadata"]["count"] == len(body["servers"]) == 1
        seen += names_and_versions(body)
        cursor = body["metadata"].get("nextCursor")
        if cursor is None:
            break
        url = f"/v0.1/servers?limit=1&cursor={quote(cursor)}"
    assert seen == sorted(seen) == sorted((d["name"], d["version"]) for d in BUNDLED)
    assert cursor is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be an integer from 1 to 100"),
        ("limit=101", "limit must be an integer from 1 to 100"),
        ("limit=ten", "limit must be an integer from 1 to 100"),
        ("cursor=not-a-cursor", "cursor is not one this registry returned"),
        ("updated_since=yesterday", "updated_since must be an RFC 3339 date-time"),
        ("updated_since=2026-11-01T00:00:00", "updated_since must be an RFC 3339 date-time"),
    ],
)
def test_bad_query_parameters_are_a_400_that_says_what_to_fix(
    client: TestClient, query: str, message: str
) -> None:
    body = get_json(client, f"/v0.1/servers?{query}", status=400)
    assert body["error"].startswith(message)


def test_search_is_a_case_insensitive_substring_of_the_name(client: TestClient) -> None:
    body = get_json(client, "/v0.1/servers?search=ECHO")
    assert names_and_versions(body) == [("io.satchel/echo", "0.1.0"), ("io.satchel/echo", "0.2.0")]
    assert get_json(client, "/v0.1/servers?search=nothing-like-this")["servers"] == []


def test_version_filter_latest_or_exact(client: TestClient) -> None:
    latest = get_json(client, "/v0.1/servers?version=latest")
    assert sorted(names_and_versions(latest)) == [
        ("io.satchel/echo", "0.2.0"),
        ("io.satchel/whisper", "1.0.0-beta.1"),
        ("io.satchel/workspace", "0.1.0"),
    ]
    exact = get_json(client, "/v0.1/servers?version=0.1.0")
    assert names_and_versions(exact) == [("io.satchel/echo", "0.1.0"), ("io.satchel/workspace", "0.1.0")]


def test_updated_since_lists_only_entries_changed_after_it(client: TestClient) -> None:
    before = get_json(client, "/v0.1/servers?updated_since=2026-11-01T11:59:59Z")
    assert before["metadata"]["count"] == 4
    same = get_json(client, "/v0.1/servers?updated_since=2026-11-01T12:00:00.000Z")
    assert same["servers"] == []
    offset = get_json(client, "/v0.1/servers?updated_since=2026-11-01T13:59:00%2B02:00")
    assert offset["metadata"]["count"] == 4


def test_latest_version_by_url_encoded_name(client: TestClient) -> None:
    entry = get_json(client, "/v0.1/servers/io.satchel%2Fecho/versions/latest")
    assert server_response_problems(entry) == []
    assert entry["server"]["version"] == "0.2.0"
    assert entry["_meta"][OFFICIAL_META_KEY]["isLatest"] is True
    workspace = get_json(client, "/v0.1/servers/io.satchel%2Fworkspace/versions/latest")
    assert workspace["server"]["remotes"][0]["url"] == "http://testserver/mcp/workspace"


def test_a_prerelease_is_the_latest_when_it_is_the_only_version(client: TestClient) -> None:
    entry = get_json(client, "/v0.1/servers/io.satchel%2Fwhisper/versions/latest")
    assert entry["server"]["version"] == "1.0.0-beta.1"


def test_one_version_and_all_versions_newest_first(client: TestClient) -> None:
    entry = get_json(client, "/v0.1/servers/io.satchel%2Fecho/versions/0.1.0")
    assert entry["server"]["version"] == "0.1.0"
    versions = get_json(client, "/v0.1/servers/io.satchel%2Fecho/versions")
    assert server_list_problems(versions) == []
    assert [e["server"]["version"] for e in versions["servers"]] == ["0.2.0", "0.1.0"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/v0.1/servers/io.satchel%2Fnope/versions/latest", "Server not found"),
        ("/v0.1/servers/io.satchel%2Fnope/versions", "Server not found"),
        ("/v0.1/servers/io.satchel%2Fecho/versions/9.9.9", "Server version not found"),
    ],
)
def test_unknown_names_and_versions_are_404(client: TestClient, url: str, message: str) -> None:
    assert get_json(client, url, status=404) == {"error": message}


def test_an_invalid_bundled_document_stops_the_server_from_starting() -> None:
    too_long = dict(WORKSPACE, description="x" * 101)
    with pytest.raises(ServerJsonError, match=r"bundled server 'io.satchel/workspace'.*/description"):
        registry_routes([too_long])


def test_a_bundled_local_server_needs_a_known_worker_and_pinned_files() -> None:
    doc = local_server(
        "io.satchel/x", "X", "1.0.0", worker="gpu-server", files=[LocalFile("/x", "nothex", -1)]
    )
    with pytest.raises(ServerJsonError) as raised:
        registry_routes([doc])
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "/_meta/io.satchel/local/worker",
        "/_meta/io.satchel/local/files/0/sha256",
        "/_meta/io.satchel/local/files/0/size",
    ]


def test_a_version_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'io\.satchel/echo' version '0\.1\.0' is listed twice"):
        registry_routes([ECHO_OLD, ECHO_OLD])
