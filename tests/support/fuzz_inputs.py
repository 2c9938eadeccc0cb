"""Generated bad inputs for the reliability suite's fuzzing of every MCP server (Hypothesis strategies), and the one
rule every answer must follow: a well-formed JSON-RPC 2.0 response (a result or an error with an integer code and a
message) with the id of the request it answers, or nothing for a notification — never a crash, never a hang.

The inputs are what a hostile or broken client sends: lines that are not JSON, JSON that is not JSON-RPC, requests
with the wrong types in every field, unknown methods, and calls of each server's real tools with arguments that are
almost right (the right names with the wrong types, values out of range, extra fields, deep nesting) or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: How many generated inputs each server gets at least (issue #15's reliability suite).
FUZZ_INPUTS = 10_000

#: Methods a client may send, in both protocol eras, plus a few that no server knows.
METHODS = [
    "initialize",
    "notifications/initialized",
    "server/discover",
    "ping",
    "tools/list",
    "tools/call",
    "notifications/cancelled",
    "resources/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
request_ids = st.integers(min_value=-(2**53), max_value=2**53) | st.text(max_size=16)
#: An id that is not a valid JSON-RPC request id (a request carrying it must be refused, not crash the server).
bad_ids = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.lists(json_scalars, max_size=2)
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


#: Values a schema-checking server must refuse or take without trouble: deep nesting, long strings, big numbers.
awkward_values = (
    json_values
    | st.integers(min_value=0, max_value=300).map(_nested)
    | st.text(min_size=1, max_size=4).map(lambda unit: unit * 2_000)
    | st.sampled_from([2**63, -(2**63) - 1, 1e308, -0.0, "", "\u0000", "\ud7ff\ue000", "💥" * 100])
)


def tool_arguments(tool: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Arguments for `tool` (its tools/list entry): its own property names with any values, plus strangers; or not
    an object at all."""
    properties = list((tool.get("inputSchema") or {}).get("properties") or {})
    known = (
        st.dictionaries(st.sampled_from(properties), awkward_values, max_size=len(properties))
        if properties
        else st.just({})
    )
    extra = st.dictionaries(st.text(max_size=10), json_values, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, extra) | json_values


def tool_calls(tools: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """tools/call requests for the given tools (their tools/list entries), with generated arguments and _meta."""
    names = [tool["name"] for tool in tools]
    by_name = {tool["name"]: tool for tool in tools}
    return st.sampled_from(names).flatmap(
        lambda name: st.fixed_dictionaries(
            {"jsonrpc": st.just("2.0"), "id": request_ids, "method": st.just("tools/call")},
        ).flatmap(
            lambda envelope: st.fixed_dictionaries(
                {"name": st.just(name) | st.text(max_size=12)},
                optional={"arguments": tool_arguments(by_name[name]), "_meta": json_values},
            ).map(lambda params: {**envelope, "params": params})
        )
    )


def messages(tools: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Any JSON a client might send: well-formed requests with bad parts, tool calls, or JSON that is not JSON-RPC."""
    envelopes = st.fixed_dictionaries(
        {},
        optional={
            "jsonrpc": st.just("2.0") | json_scalars,
            "id": request_ids | bad_ids,
            "method": st.sampled_from(METHODS) | st.text(max_size=20) | json_scalars,
            "params": json_values,
            "result": json_values,
            "error": json_values,
        },
    )
    requests = st.fixed_dictionaries(
        {"jsonrpc": st.just("2.0"), "id": request_ids, "method": st.sampled_from(METHODS)},
        optional={
            "params": st.dictionaries(
                st.sampled_from(["protocolVersion", "cursor", "_meta", "name", "requestId"]), json_values
            )
        },
    )
    return tool_calls(tools) | requests | envelopes | json_values


def lines(tools: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    """Lines of a stdio stream: a generated message as JSON, or text that is not (truncated JSON, bytes of noise)."""
    as_json = messages(tools).map(lambda message: json.dumps(message))
    broken = as_json.flatmap(
        lambda text: st.integers(min_value=0, max_value=max(0, len(text) - 1)).map(lambda cut: text[:cut])
    )
    return (
        as_json | broken | st.text(max_size=200).map(lambda text: text.replace("\n", " ").replace("\r", " "))
    )


def check_answers(message: Any, answers: list[dict[str, Any]]) -> None:
    """`answers` (what a server sent back for `message`, notifications first) follow the rule in the module
    docstring."""
    responses = [answer for answer in answers if "id" in answer]
    for answer in answers:
        assert answer.get("jsonrpc") == "2.0", answer
    assert len(responses) <= 1, f"{len(responses)} responses to one message: {responses}"
    if not responses:
        # Only a notification (or a response the client sent) may go unanswered.
        assert isinstance(message, dict) and ("id" not in message or "method" not in message), message
        return
    (response,) = responses
    if "error" in response:
        error = response["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), response
        assert "result" not in response, response
    else:
        assert isinstance(response.get("result"), dict), response
        if (
            isinstance(message, dict)
            and message.get("id") is not None
            and not isinstance(message.get("id"), bool)
        ):
            assert response["id"] == message["id"], (message, response)
