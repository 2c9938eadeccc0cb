"""server: the MCP core — both protocol eras, tools/list and tools/call, progress, cancellation, errors, limits."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any, TypedDict, TypeVar

import pytest

from satchel.tools import Progress, ToolError, ToolServer, default_server
from satchel.tools.jsonrpc import MAX_DEPTH
from satchel.tools.protocol import CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY, SERVER_INFO_KEY
from satchel.tools.server import MAX_STRING_BYTES

T = TypeVar("T")
MODERN_META = {PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {}}


class Count(TypedDict):
    """Attributes:
    reached: The last number counted.
    """

    reached: int


def demo_server() -> ToolServer:
    server = ToolServer("demo", "1.0")

    @server.tool()
    def count(to: int) -> Generator[Progress, None, Count]:
        """Count slowly, one step per number.

        Args:
            to: Where to stop.
        """
        for number in range(1, to + 1):
            yield Progress(number, to, f"at {number}")
        return {"reached": to}

    @server.tool()
    def greet(name: str) -> str:
        """Say hello."""
        return f"Hello, {name}!"

    @server.tool()
    def fail(kind: str) -> str:
        """Fail on purpose."""
        if kind == "tool":
            raise ToolError("the input is unusable")
        raise KeyError("boom")

    return server


def request(method: str, params: dict[str, Any] | None = None, id: int | str = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def only(messages: list[T]) -> T:
    assert len(messages) == 1, messages
    return messages[0]


def error_of(server: ToolServer, message: object) -> dict[str, Any]:
    reply = only(server.handle(message))
    assert "error" in reply, reply
    error: dict[str, Any] = reply["error"]
    return error


# -- handshake era ------------------------------------------------------------------------------------------------


def test_initialize_negotiates_the_clients_version_when_supported() -> None:
    server = demo_server()
    reply = only(
        server.handle(
            request(
                "initialize",
                {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            )
        )
    )
    assert reply["result"]["protocolVersion"] == "2025-06-18"
    assert reply["result"]["capabilities"] == {"tools": {"listChanged": False}}
    assert reply["result"]["serverInfo"] == {"name": "demo", "version": "1.0"}
    assert server.handle({"jsonrpc": "2.0", "method": "notifications/initialized"}) == []
    assert server.initialized


def test_initialize_answers_an_unknown_version_with_its_latest() -> None:
    reply = only(
        demo_server().handle(request("initialize", {"protocolVersion": "2099-01-01", "capabilities": {}}))
    )
    assert reply["result"]["protocolVersion"] == "2025-11-25"


def test_initialize_without_a_version_is_invalid_params() -> None:
    assert error_of(demo_server(), request("initialize", {}))["code"] == -32602


def test_old_versions_get_no_structured_output() -> None:
    server = demo_server()
    server.handle(request("initialize", {"protocolVersion": "2025-03-26", "capabilities": {}}))
    tools = only(server.handle(request("tools/list")))["result"]["tools"]
    assert all("outputSchema" not in entry for entry in tools)
    result = only(server.handle(request("tools/call", {"name": "count", "arguments": {"to": 1}})))["result"]
    assert "structuredContent" not in result and json.loads(result["content"][0]["text"]) == {"reached": 1}


def test_ping() -> None:
    assert only(demo_server().handle(request("ping")))["result"] == {}


# -- 2026 stateless era -------------------------------------------------------------------------------------------


def test_discover_advertises_the_modern_version_with_cache_hints_and_server_info() -> None:
    result = only(demo_server().handle(request("server/discover", {"_meta": MODERN_META})))["result"]
    assert result["supportedVersions"] == ["2026-07-28"]
    assert result["resultType"] == "complete"
    assert result["ttlMs"] > 0 and result["cacheScope"] == "public"
    assert result["_meta"][SERVER_INFO_KEY] == {"name": "demo", "version": "1.0"}


def test_discover_without_the_envelope_is_invalid_params_so_clients_fall_back() -> None:
    assert error_of(demo_server(), request("server/discover"))["code"] == -32602


def test_unsupported_modern_version_is_32022_naming_what_is_supported() -> None:
    meta = {PROTOCOL_VERSION_KEY: "2030-01-01", CLIENT_CAPABILITIES_KEY: {}}
    error = error_of(demo_server(), request("tools/list", {"_meta": meta}))
    assert error["code"] == -32022
    assert error["data"]["requested"] == "2030-01-01" and "2026-07-28" in error["data"]["supported"]


def test_envelope_missing_capabilities_is_invalid_params() -> None:
    error = error_of(demo_server(), request("tools/list", {"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28"}}))
    assert error["code"] == -32602 and CLIENT_CAPABILITIES_KEY in error["message"]


def test_modern_results_carry_result_type_and_server_info() -> None:
    server = demo_server()
    listed = only(server.handle(request("tools/list", {"_meta": MODERN_META})))["result"]
    assert listed["resultType"] == "complete" and listed["cacheScope"] == "public"
    called = only(
        server.handle(
            request("tools/call", {"name": "greet", "arguments": {"name": "Ada"}, "_meta": MODERN_META})
        )
    )["result"]
    assert called["resultType"] == "complete" and called["_meta"][SERVER_INFO_KEY]["name"] == "demo"
    assert called["content"] == [{"type": "text", "text": "Hello, Ada!"}]


# -- tools --------------------------------------------------------------------------------------------------------


def test_tools_list_is_stable_and_complete() -> None:
    first = only(default_server().handle(request("tools/list")))["result"]["tools"]
    second = only(default_server().handle(request("tools/list")))["result"]["tools"]
    assert first == second
    assert [entry["name"] for entry in first] == [
        "redact",
        "summarize_extractive",
        "text_stats",
        "csv_query",
        "date_math",
        "json_patch",
    ]
    for entry in first:
        assert entry["inputSchema"]["type"] == "object" and entry["outputSchema"]["type"] == "object"
        assert entry["annotations"] == {
            "readOnlyHint": True,
            "destructiveHint": False,
            "idempotentHint": True,
            "openWorldHint": False,
        }
        assert entry["description"] and entry["title"]


def test_structured_result_also_comes_as_json_text() -> None:
    result = only(demo_server().handle(request("tools/call", {"name": "count", "arguments": {"to": 2}})))[
        "result"
    ]
    assert result["structuredContent"] == {"reached": 2} and result["isError"] is False
    assert json.loads(result["content"][0]["text"]) == {"reached": 2}


def test_tool_errors_are_is_error_results() -> None:
    server = demo_server()
    result = only(server.handle(request("tools/call", {"name": "fail", "arguments": {"kind": "tool"}})))[
        "result"
    ]
    assert result == {"content": [{"type": "text", "text": "the input is unusable"}], "isError": True}
    crash = only(server.handle(request("tools/call", {"name": "fail", "arguments": {"kind": "bug"}})))[
        "result"
    ]
    assert crash["isError"] is True and "fail failed unexpectedly: KeyError" in crash["content"][0]["text"]


def test_bad_arguments_are_is_error_results_the_model_can_correct() -> None:
    result = only(
        demo_server().handle(request("tools/call", {"name": "count", "arguments": {"to": "3", "x": 1}}))
    )
    text = result["result"]["content"][0]["text"]
    assert result["result"]["isError"] is True
    assert (
        text == "Invalid arguments for count: to: expected integer, got string; x: unexpected (accepted: to)"
    )


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"name": "nope"}, "Unknown tool: 'nope' (this server offers: count, greet, fail)"),
        ({}, "name must be a string"),
        ({"name": "greet", "arguments": [1]}, "arguments must be an object"),
        ({"name": "greet", "arguments": {}, "_meta": {"progressToken": 1.5}}, "progressToken"),
    ],
)
def test_malformed_calls_are_invalid_params(params: dict[str, Any], text: str) -> None:
    error = error_of(demo_server(), request("tools/call", params))
    assert error["code"] == -32602 and text in error["message"]


def test_oversized_text_is_invalid_params_naming_the_argument() -> None:
    huge = "a" * (MAX_STRING_BYTES + 1)
    error = error_of(default_server(), request("tools/call", {"name": "redact", "arguments": {"text": huge}}))
    assert error["code"] == -32602 and "'text'" in error["message"] and "1 MiB" in error["message"]
    assert error["data"] == {"argument": "text", "bytes": MAX_STRING_BYTES + 1, "limit": MAX_STRING_BYTES}
    multibyte = "ü" * (MAX_STRING_BYTES // 2 + 1)  # fewer characters than the limit, more bytes
    nested = {"name": "json_patch", "arguments": {"document": {"k": [multibyte]}, "patch": []}}
    assert "'document.k[0]'" in error_of(default_server(), request("tools/call", nested))["message"]


def test_text_just_under_the_limit_is_served() -> None:
    text = ("Plain words without personal data. " * 30000)[: MAX_STRING_BYTES - 10]
    reply = only(
        default_server().handle(request("tools/call", {"name": "text_stats", "arguments": {"text": text}}))
    )
    assert reply["result"]["isError"] is False


# -- errors -------------------------------------------------------------------------------------------------------


def test_unknown_method_is_method_not_found() -> None:
    error = error_of(demo_server(), request("resources/list"))
    assert error == {"code": -32601, "message": "Method not found: 'resources/list'"}


def test_unknown_notifications_and_replies_are_ignored() -> None:
    server = demo_server()
    assert server.handle({"jsonrpc": "2.0", "method": "notifications/whatever"}) == []
    assert server.handle({"jsonrpc": "2.0", "id": 5, "result": {}}) == []


def test_lines_parse_errors_and_invalid_requests() -> None:
    server = demo_server()
    assert json.loads(only(server.handle_line("{nope")))["error"]["code"] == -32700
    assert json.loads(only(server.handle_line("{nope")))["id"] is None
    reply = json.loads(only(server.handle_line('{"jsonrpc": "1.0", "id": 4, "method": "ping"}')))
    assert reply["id"] == 4 and reply["error"]["code"] == -32600
    assert json.loads(only(server.handle_line('{"jsonrpc":"2.0","id":"x","method":"ping"}'))) == {
        "jsonrpc": "2.0",
        "id": "x",
        "result": {},
    }


def test_unknown_cursor_is_invalid_params() -> None:
    assert error_of(demo_server(), request("tools/list", {"cursor": "abc"}))["code"] == -32602


# -- progress and cancellation ------------------------------------------------------------------------------------


def test_progress_notifications_when_a_token_is_given() -> None:
    messages = demo_server().handle(
        request("tools/call", {"name": "count", "arguments": {"to": 3}, "_meta": {"progressToken": "tok"}})
    )
    progress = [message["params"] for message in messages[:-1]]
    assert progress == [
        {"progressToken": "tok", "progress": 1, "total": 3, "message": "at 1"},
        {"progressToken": "tok", "progress": 2, "total": 3, "message": "at 2"},
        {"progressToken": "tok", "progress": 3, "total": 3, "message": "at 3"},
    ]
    assert all(message["method"] == "notifications/progress" for message in messages[:-1])
    assert messages[-1]["result"]["structuredContent"] == {"reached": 3}


def test_no_progress_notifications_without_a_token() -> None:
    assert len(demo_server().handle(request("tools/call", {"name": "count", "arguments": {"to": 5}}))) == 1


def test_cancel_between_steps_stops_the_call_without_a_response() -> None:
    server = demo_server()
    exchange = server.start(request("tools/call", {"name": "count", "arguments": {"to": 100}}, id="job"))
    steps = [exchange.step() for _ in range(3)]
    assert steps == [[], [], []] and not exchange.done
    assert (
        server.handle(
            {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": "job", "reason": "user"},
            }
        )
        == []
    )
    assert exchange.run() == [] and exchange.done and exchange.cancelled
    assert server.cancel("job") is False  # no longer in flight


def test_cancel_of_an_unknown_or_finished_request_is_harmless() -> None:
    server = demo_server()
    assert (
        server.handle({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}})
        == []
    )
    assert only(server.handle(request("ping")))["result"] == {}


def test_ids_1_and_string_1_are_different_requests() -> None:
    server = demo_server()
    first = server.start(request("tools/call", {"name": "count", "arguments": {"to": 5}}, id=1))
    second = server.start(request("tools/call", {"name": "count", "arguments": {"to": 5}}, id="1"))
    first.step()
    second.step()
    server.cancel(1)
    assert first.run() == []
    assert second.run()[-1]["result"]["structuredContent"] == {"reached": 5}


def test_a_reused_in_flight_id_is_refused() -> None:
    server = demo_server()
    running = server.start(request("tools/call", {"name": "count", "arguments": {"to": 5}}, id=3))
    running.step()
    error = error_of(server, request("tools/call", {"name": "count", "arguments": {"to": 1}}, id=3))
    assert error["code"] == -32600 and "already in use" in error["message"]
    assert running.run()[-1]["id"] == 3


def test_registering_two_tools_with_one_name_is_refused() -> None:
    server = demo_server()
    with pytest.raises(ValueError, match="already registered"):

        @server.tool(name="greet")
        def other() -> str:
            """Another greet."""
            return ""


def test_arguments_nested_too_deeply_for_python_get_a_json_rpc_error_not_a_recursion_error() -> None:
    # 900 levels parse (under the recursion limit) but copying or validating them would recurse past it.
    document = "[" * 900 + "]" * 900
    line = (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
        f'"params":{{"name":"json_patch","arguments":{{"document":{document},"patch":[]}}}}}}'
    )
    reply = json.loads(only(default_server().handle_line(line)))
    assert reply["error"]["code"] == -32700
    assert f"the limit is {MAX_DEPTH}" in reply["error"]["message"]
