"""jsonrpc: the envelope rules — what is a request, a notification, a reply, and what is refused."""

from __future__ import annotations

import pytest

from satchel.tools.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_DEPTH,
    PARSE_ERROR,
    JsonRpcError,
    Reply,
    Request,
    decode,
    encode,
    nesting_depth,
    parse_message,
)


def test_request_and_notification() -> None:
    assert parse_message({"jsonrpc": "2.0", "id": 7, "method": "ping"}) == Request("ping", {}, 7)
    note = parse_message({"jsonrpc": "2.0", "method": "notifications/initialized", "params": None})
    assert isinstance(note, Request) and note.is_notification


def test_replies_are_recognised() -> None:
    assert parse_message({"jsonrpc": "2.0", "id": "a", "result": {}}) == Reply("a")


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], INVALID_REQUEST, "batches are not supported"),
        ("ping", INVALID_REQUEST, "expected a JSON object, got string"),
        ({"id": 1, "method": "ping"}, INVALID_REQUEST, '"jsonrpc" must be exactly "2.0"'),
        (
            {"jsonrpc": "2.0", "id": None, "method": "ping"},
            INVALID_REQUEST,
            '"id" must be a string or an integer',
        ),
        (
            {"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
            INVALID_REQUEST,
            '"id" must be a string or an integer',
        ),
        (
            {"jsonrpc": "2.0", "id": True, "method": "ping"},
            INVALID_REQUEST,
            '"id" must be a string or an integer',
        ),
        ({"jsonrpc": "2.0", "id": 1}, INVALID_REQUEST, 'no "method" member'),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, INVALID_REQUEST, '"method" must be a non-empty string'),
        ({"jsonrpc": "2.0", "id": 1, "method": "x", "params": [1]}, INVALID_PARAMS, "not an array"),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "x", "params": 3},
            INVALID_REQUEST,
            '"params" must be an object',
        ),
    ],
)
def test_malformed_messages(message: object, code: int, text: str) -> None:
    with pytest.raises(JsonRpcError) as caught:
        parse_message(message)
    assert caught.value.code == code and text in caught.value.message


@pytest.mark.parametrize("line", ["{", '{"a": NaN}', "[1,]", "", "\x00", "[" * 100_000])
def test_bad_json_is_a_parse_error(line: str) -> None:
    with pytest.raises(JsonRpcError) as caught:
        decode(line)
    assert caught.value.code == PARSE_ERROR and caught.value.message.startswith("Parse error")


def test_encode_is_one_line_and_keeps_unicode() -> None:
    assert encode({"text": "a\nb\u2028ü"}) == '{"text":"a\\nb\u2028ü"}'


@pytest.mark.parametrize(
    ("line", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [{"b": []}]}', 4),
        ('{"text": "[[[[{{{{ \\" ]]]] [[[[", "a": [[1]]}', 3),
        ("[" * 70 + "]" * 70, 70),
        ("[" * 100_000, 100_000),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(line: str, depth: int) -> None:
    assert nesting_depth(line, limit=0) == depth


def test_a_line_nested_past_the_limit_is_refused_before_parsing_naming_the_limit() -> None:
    deep = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + "[" * 100_000 + "]" * 100_000 + "}}"
    with pytest.raises(JsonRpcError) as caught:
        decode(deep)
    assert caught.value.code == PARSE_ERROR
    assert f"the limit is {MAX_DEPTH}" in caught.value.message
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting_depth(at_limit) == MAX_DEPTH and decode(at_limit) is not None
