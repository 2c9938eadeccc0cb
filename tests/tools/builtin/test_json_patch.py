"""json_patch: the RFC 6902 operations and pointer rules, atomicity, precise errors, and RFC 7386 merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from satchel.tools.builtin.json_patch import (
    MAX_OPERATIONS,
    MAX_RESULT_BYTES,
    apply_merge_patch,
    json_equal,
    json_patch,
    parse_pointer,
)
from satchel.tools.jsonrpc import MAX_DEPTH

Structured = Callable[..., dict[str, Any]]
ToolErrorText = Callable[..., str]


def patched(structured: Structured, document: Any, patch: Any) -> Any:
    return structured("json_patch", document=document, patch=patch)["document"]


def test_every_operation(structured: Structured) -> None:
    document = {"name": "x", "tags": ["a", "b"], "meta": {"v": 1}}
    patch = [
        {"op": "add", "path": "/tags/1", "value": "inserted"},
        {"op": "add", "path": "/tags/-", "value": "last"},
        {"op": "remove", "path": "/name"},
        {"op": "replace", "path": "/meta/v", "value": 2},
        {"op": "copy", "from": "/meta", "path": "/copy"},
        {"op": "move", "from": "/tags/0", "path": "/first"},
        {"op": "test", "path": "/copy", "value": {"v": 2.0}},
    ]
    result = structured("json_patch", document=document, patch=patch)
    assert result == {
        "document": {"tags": ["inserted", "b", "last"], "meta": {"v": 2}, "copy": {"v": 2}, "first": "a"},
        "operations_applied": 7,
    }


def test_pointer_escapes_and_root(structured: Structured) -> None:
    document = {"a/b": 1, "m~n": 2, "": 3}
    assert patched(structured, document, [{"op": "replace", "path": "/a~1b", "value": 10}])["a/b"] == 10
    assert patched(structured, document, [{"op": "remove", "path": "/m~0n"}]) == {"a/b": 1, "": 3}
    assert patched(structured, document, [{"op": "replace", "path": "/", "value": 4}])[""] == 4
    assert patched(structured, document, [{"op": "replace", "path": "", "value": [1]}]) == [1]


def test_pointer_parsing() -> None:
    assert parse_pointer("/~01/~10") == ["~1", "/0"]
    with pytest.raises(ValueError, match="not followed by 0 or 1"):
        parse_pointer("/a~2")
    with pytest.raises(ValueError, match="must be empty or start with"):
        parse_pointer("a")


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            [{"op": "test", "path": "/a", "value": 2}],
            "operation 0 (test) failed: test at '/a': expected 2, found 1",
        ),
        (
            [{"op": "add", "path": "/b/1", "value": 1}],
            "operation 0 (add) failed: '/b/1': index 1 is out of range",
        ),
        ([{"op": "remove", "path": "/nope"}], "operation 0 (remove) failed: '/nope': no member 'nope'"),
        ([{"op": "replace", "path": "/b/01", "value": 1}], "'01' is not an array index"),
        ([{"op": "replace", "path": "/b/-", "value": 1}], "'-' is not an array index"),
        ([{"op": "move", "from": "/c", "path": "/c/d"}], "into its own child"),
        ([{"op": "add", "path": "/a/x", "value": 1}], "cannot add into a number"),
        ([{"op": "test", "path": "/a", "value": True}], "expected true, found 1"),
        ([{"op": "add", "path": "/z"}], 'no "value" member'),
        ([{"op": "copy", "path": "/z"}], 'no "from" member'),
        ([{"op": "frobnicate", "path": "/a"}], '"op" must be one of'),
        ([{"op": "add", "path": 5, "value": 1}], "must be a string, got number"),
        (["add"], "an operation is an object, got string"),
        ({"op": "add"}, "a JSON Patch is an array of operations"),
        ([{"op": "remove", "path": ""}], "cannot remove the whole document"),
    ],
)
def test_failures_name_the_operation_and_path(tool_error: ToolErrorText, patch: Any, expected: str) -> None:
    assert expected in tool_error("json_patch", document={"a": 1, "b": [], "c": {"d": 1}}, patch=patch)


def test_a_failing_patch_changes_nothing(structured: Structured, tool_error: ToolErrorText) -> None:
    document = {"a": 1}
    patch = [{"op": "replace", "path": "/a", "value": 2}, {"op": "test", "path": "/a", "value": 3}]
    assert "operation 1 (test)" in tool_error("json_patch", document=document, patch=patch)
    assert document == {"a": 1}
    assert patched(structured, document, patch[:1]) == {"a": 2}


def test_json_equality_rules() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal(None, False)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal([1, 2], [2, 1])


def test_merge_patch_rfc7386_examples(structured: Structured) -> None:
    cases: list[tuple[Any, Any, Any]] = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, expected in cases:
        assert apply_merge_patch(target, patch) == expected
        assert structured("json_patch", document=target, patch=patch, mode="merge")["document"] == expected


def test_copying_the_root_again_and_again_is_refused_before_the_result_grows_past_the_limit(
    tool_error: ToolErrorText,
) -> None:
    # Each copy doubles the document: 17 of them would make about 13 MB out of 100 bytes.
    document = {"text": "x" * 90}
    patch = [{"op": "copy", "from": "", "path": f"/copy{index}"} for index in range(17)]
    message = tool_error("json_patch", document=document, patch=patch)
    assert f"would be larger than the limit of {MAX_RESULT_BYTES:,} bytes" in message
    assert "operation 15 (copy)" in message
    assert document == {"text": "x" * 90}


def test_too_many_operations_are_refused_naming_the_limit(
    structured: Structured, tool_error: ToolErrorText
) -> None:
    test = {"op": "test", "path": "/a", "value": 1}
    assert structured("json_patch", document={"a": 1}, patch=[test] * MAX_OPERATIONS)[
        "operations_applied"
    ] == (MAX_OPERATIONS)
    message = tool_error("json_patch", document={"a": 1}, patch=[test] * (MAX_OPERATIONS + 1))
    assert f"the limit is {MAX_OPERATIONS:,}" in message


def test_moves_cannot_nest_the_result_past_the_depth_limit(tool_error: ToolErrorText) -> None:
    # Every three operations wrap /d in one more object, with paths never longer than two steps.
    wrap = [
        {"op": "add", "path": "/t", "value": {}},
        {"op": "move", "from": "/d", "path": "/t/d"},
        {"op": "move", "from": "/t", "path": "/d"},
    ]
    message = tool_error("json_patch", document={"d": {}}, patch=wrap * 200)
    assert f"could nest deeper than the limit of {MAX_DEPTH} levels" in message


def test_the_limits_are_in_the_patch_description() -> None:
    description = json_patch.input_schema["properties"]["patch"]["description"]
    assert f"at most {MAX_OPERATIONS} operations" in description
    assert f"{MAX_RESULT_BYTES // (1024 * 1024)} MiB" in description
