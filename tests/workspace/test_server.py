"""The workspace server through the official `mcp` Python client over Streamable HTTP, on a real uvicorn server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, RequestParamsMeta, TextContent
from starlette.applications import Starlette

from satchel.workspace import IDEMPOTENCY_META_KEY, create_workspace
from satchel.workspace.notes import MAX_QUERY, MAX_QUERY_WORDS

MODERN = "2026-07-28"
LEGACY = "2025-11-25"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class RunningServer:
    url: str
    db_path: Path
    port: int


@asynccontextmanager
async def _lifespan_of(workspace: Any, _app: Starlette) -> AsyncIterator[None]:
    async with workspace.lifespan():
        yield


@contextmanager
def serve_workspace(db_path: Path) -> Iterator[RunningServer]:
    """Run a Starlette app with the workspace routed at /mcp/workspace on a free 127.0.0.1 port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    workspace = create_workspace(
        db_path, allowed_hosts=[f"127.0.0.1:{port}", f"localhost:{port}"], anonymous=True
    )
    app = Starlette(routes=workspace.routes, lifespan=lambda app: _lifespan_of(workspace, app))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the workspace test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}/mcp/workspace", db_path, port)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture
def workspace_server(tmp_path: Path) -> Iterator[RunningServer]:
    with serve_workspace(tmp_path / "notes.db") as running:
        yield running


def key_meta(key: str) -> RequestParamsMeta:
    """Request `_meta` carrying an idempotency key, as the browser's offline queue sends it."""
    return cast(RequestParamsMeta, {IDEMPOTENCY_META_KEY: key})


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    # The text content carries the same JSON, for clients that ignore structured output.
    [text] = result.content
    assert isinstance(text, TextContent)
    assert json.loads(text.text) == result.structured_content
    content: dict[str, Any] = result.structured_content
    return content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    assert result.structured_content is None
    [text] = result.content
    assert isinstance(text, TextContent)
    return text.text


async def save(client: Client, title: str, body: str, **extra: Any) -> dict[str, Any]:
    meta = extra.pop("meta", None)
    return structured(await client.call_tool("save_note", {"title": title, "body": body, **extra}, meta=meta))


@pytest.mark.anyio
async def test_tools_carry_honest_annotations_and_output_schemas(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"save_note", "list_notes", "search_notes", "delete_note"}
    hints = {
        name: (t.annotations.read_only_hint, t.annotations.destructive_hint, t.annotations.idempotent_hint)
        for name, t in tools.items()
        if t.annotations is not None
    }
    assert hints == {
        "save_note": (False, False, True),
        "list_notes": (True, None, None),
        "search_notes": (True, None, None),
        "delete_note": (False, True, True),
    }
    assert tools["save_note"].input_schema["required"] == ["title", "body"]
    assert tools["search_notes"].input_schema["required"] == ["query"]
    for tool in tools.values():
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
    save_output = tools["save_note"].output_schema
    assert save_output is not None and save_output["required"] == ["note", "created"]


@pytest.mark.anyio
@pytest.mark.parametrize(("mode", "protocol"), [("auto", MODERN), ("legacy", LEGACY)])
async def test_save_list_search_delete_in_either_protocol_era(
    workspace_server: RunningServer, mode: str, protocol: str
) -> None:
    async with Client(workspace_server.url, mode=mode) as client:
        assert client.protocol_version == protocol
        first = await save(client, "Groceries", "oat milk, bread", tags=["home", " home ", "shop"])
        second = await save(client, "Standup", "demo the offline queue")
        assert first["created"] and second["created"]
        assert first["note"]["tags"] == ["home", "shop"]

        listed = structured(await client.call_tool("list_notes", {}))
        assert [n["title"] for n in listed["notes"]] == ["Standup", "Groceries"]
        assert listed["next_cursor"] is None

        found = structured(await client.call_tool("search_notes", {"query": "offline"}))
        assert [hit["note"]["id"] for hit in found["hits"]] == [second["note"]["id"]]
        assert found["hits"][0]["snippet"] == "demo the «offline» queue"

        deleted = structured(await client.call_tool("delete_note", {"note_id": second["note"]["id"]}))
        assert deleted == {"id": second["note"]["id"], "deleted": True}
        again = structured(await client.call_tool("delete_note", {"note_id": second["note"]["id"]}))
        assert again == {"id": second["note"]["id"], "deleted": False}
        assert structured(await client.call_tool("search_notes", {"query": "offline"}))["hits"] == []
        listed = structured(await client.call_tool("list_notes", {}))
        assert [n["title"] for n in listed["notes"]] == ["Groceries"]


@pytest.mark.anyio
async def test_the_same_key_from_two_sessions_saves_one_note(workspace_server: RunningServer) -> None:
    meta = key_meta("queue-entry-7f3a")
    async with Client(workspace_server.url, mode="legacy") as browser_like:
        first = await save(browser_like, "Offline thought", "written on the train", meta=meta)
    async with Client(workspace_server.url) as replay:
        second = await save(replay, "Offline thought", "written on the train", meta=meta)
        third = await save(replay, "Offline thought", "written on the train", key="queue-entry-7f3a")
        listed = structured(await replay.call_tool("list_notes", {}))
    assert first["created"] is True
    assert second == third == {"note": first["note"], "created": False}
    assert len(listed["notes"]) == 1


@pytest.mark.anyio
async def test_a_key_survives_a_server_restart(tmp_path: Path) -> None:
    meta = key_meta("flush-interrupted")
    with serve_workspace(tmp_path / "notes.db") as running:
        async with Client(running.url) as client:
            first = await save(client, "Sent once", "even if replayed", meta=meta)
    with serve_workspace(tmp_path / "notes.db") as running:
        async with Client(running.url) as client:
            replayed = await save(client, "Sent once", "even if replayed", meta=meta)
            listed = structured(await client.call_tool("list_notes", {}))
    assert replayed == {"note": first["note"], "created": False}
    assert [n["id"] for n in listed["notes"]] == [first["note"]["id"]]


@pytest.mark.anyio
async def test_same_key_with_other_content_is_a_clear_error(workspace_server: RunningServer) -> None:
    meta = key_meta("k-1")
    async with Client(workspace_server.url) as client:
        await save(client, "Plan", "v1", meta=meta)
        result = await client.call_tool("save_note", {"title": "Plan", "body": "v2"}, meta=meta)
        listed = structured(await client.call_tool("list_notes", {}))
    message = error_text(result)
    assert "idempotency key 'k-1' was already used to save note 1 with other content" in message
    assert "use a new key" in message
    assert [n["body"] for n in listed["notes"]] == ["v1"]


@pytest.mark.anyio
async def test_key_argument_and_meta_key_must_agree(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        result = await client.call_tool(
            "save_note", {"title": "t", "body": "b", "key": "a"}, meta=key_meta("b")
        )
    assert "the key argument and _meta 'io.satchel/idempotency-key' differ" in error_text(result)


@pytest.mark.anyio
async def test_without_a_key_the_same_content_is_saved_once(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        first = await save(client, "Same", "content")
        second = await save(client, "Same", "content")
        other = await save(client, "Same", "other content")
    assert first["created"] and not second["created"] and other["created"]
    assert second["note"] == first["note"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ('"', []),
        ('"quoted', ["Quotes"]),
        ("AND", ["Operators"]),
        ("OR NOT", ["Operators"]),
        ("*", []),
        ("star*", ["Operators"]),
        ("NEAR(", ["Operators"]),
        ("((", []),
        ("(unbalanced", ["Operators"]),
        ("-minus", ["Operators"]),
        ("title:notes", ["Operators"]),
        ("cafe", ["Unicode"]),
        ("CAFÉ", ["Unicode"]),
        ("東京", ["Unicode"]),
        ("naï", ["Unicode"]),
        ("", []),
        ("   ", []),
    ],
)
async def test_search_treats_any_input_as_text(
    workspace_server: RunningServer, query: str, titles: list[str]
) -> None:
    async with Client(workspace_server.url) as client:
        await save(client, "Quotes", 'she said "quoted" words')
        await save(client, "Operators", "AND OR NOT NEAR stars* (unbalanced -minus title: notes")
        await save(client, "Unicode", "Café crème in 東京, naïve")
        result = await client.call_tool("search_notes", {"query": query})
    assert [hit["note"]["title"] for hit in structured(result)["hits"]] == titles


@pytest.mark.anyio
async def test_search_matches_titles_and_tags_and_marks_them(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        await save(client, "Budget review", "numbers", tags=["finance"])
        by_title = structured(await client.call_tool("search_notes", {"query": "budget"}))
        by_tag = structured(await client.call_tool("search_notes", {"query": "finance"}))
    assert by_title["hits"][0]["title_highlighted"] == "«Budget» review"
    assert [h["note"]["title"] for h in by_tag["hits"]] == ["Budget review"]


@pytest.mark.anyio
async def test_list_pages_newest_first(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        for n in range(5):
            await save(client, f"Note {n}", f"body {n}")
        titles: list[str] = []
        cursor: str | None = None
        for _ in range(5):
            args: dict[str, Any] = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
            page = structured(await client.call_tool("list_notes", args))
            titles += [n["title"] for n in page["notes"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = await client.call_tool("list_notes", {"cursor": "not-ours"})
    assert titles == ["Note 4", "Note 3", "Note 2", "Note 1", "Note 0"]
    assert "cursor is not one list_notes returned" in error_text(bad)


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The message of a refused call, whether the server answers with an error result or a JSON-RPC error."""
    try:
        result = await client.call_tool(tool, arguments)
    except MCPError as exc:
        return str(exc)
    return error_text(result)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("save_note", {"body": "no title"}, "title\n  Field required"),
        ("save_note", {"title": "", "body": "x"}, "title"),
        ("save_note", {"title": "x", "body": "y", "tags": "home"}, "tags"),
        ("search_notes", {}, "query\n  Field required"),
        ("delete_note", {"note_id": "one"}, "note_id"),
        ("list_notes", {"limit": 1000}, "limit"),
    ],
)
async def test_bad_arguments_are_refused_naming_the_field(
    workspace_server: RunningServer, mode: str, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    async with Client(workspace_server.url, mode=mode) as client:
        message = await refused(client, tool, arguments)
        listed = structured(await client.call_tool("list_notes", {}))
    assert expected in message
    assert listed["notes"] == []


def initialize_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "raw-http-test", "version": "0"},
        },
    }


HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_the_endpoint_is_exactly_the_route_path_and_answers_json(workspace_server: RunningServer) -> None:
    response = httpx.post(workspace_server.url, json=initialize_request(), headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["result"]["serverInfo"]["name"] == "satchel-workspace"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example:80"}, 421),
        ({"Host": "127.0.0.1:1"}, 421),
        ({"Origin": "http://evil.example"}, 403),
    ],
)
def test_foreign_hosts_and_origins_are_refused(
    workspace_server: RunningServer, headers: dict[str, str], status: int
) -> None:
    response = httpx.post(workspace_server.url, json=initialize_request(), headers={**HEADERS, **headers})
    assert response.status_code == status


def test_allowed_host_names_and_same_origin_pages_are_served(workspace_server: RunningServer) -> None:
    port = workspace_server.port
    for extra in ({"Host": f"localhost:{port}"}, {"Origin": f"http://127.0.0.1:{port}"}):
        response = httpx.post(workspace_server.url, json=initialize_request(), headers={**HEADERS, **extra})
        assert response.status_code == 200, extra


@pytest.mark.anyio
async def test_search_refuses_a_query_past_the_limits_naming_them(workspace_server: RunningServer) -> None:
    async with Client(workspace_server.url) as client:
        too_long = await client.call_tool("search_notes", {"query": "w" * (MAX_QUERY + 1)})
        too_many = await client.call_tool("search_notes", {"query": "w " * (MAX_QUERY_WORDS + 1)})
    assert f"at most {MAX_QUERY} characters" in error_text(too_long)
    assert f"the limit is {MAX_QUERY_WORDS}" in error_text(too_many)
