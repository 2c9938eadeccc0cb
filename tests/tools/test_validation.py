"""validation: arguments are checked against the generated schema with messages that point at the fault."""

from __future__ import annotations

from satchel.tools.validation import validation_errors

SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 5},
        "ratio": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "mode": {"enum": ["a", "b", None]},
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 4},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"op": {"type": "string"}}, "required": ["op"]},
            "maxItems": 2,
        },
    },
    "required": ["n"],
    "additionalProperties": False,
}


def test_valid_arguments_pass() -> None:
    assert validation_errors({"n": 3, "ratio": None, "mode": None, "items": [{"op": "x"}]}, SCHEMA) == []


def test_each_fault_is_named_by_path() -> None:
    errors = validation_errors(
        {"ratio": 0, "mode": "c", "name": "ABCDE", "items": [{}, {"op": 1}, {"op": "x"}], "extra": 1}, SCHEMA
    )
    assert errors == [
        "n: required but missing",
        "ratio: 0 must be greater than 0",
        "mode: 'c' is not one of 'a', 'b', None",
        "name: must have at most 4 characters",
        "name: 'ABCDE' does not match the pattern ^[a-z]+$",
        "items: must have at most 2 items",
        "items[0].op: required but missing",
        "items[1].op: expected string, got number",
        "extra: unexpected (accepted: n, ratio, mode, name, items)",
    ]


def test_booleans_are_not_numbers_and_floats_are_not_integers() -> None:
    assert validation_errors({"n": True}, SCHEMA) == ["n: expected integer, got boolean"]
    assert validation_errors({"n": 2.0}, SCHEMA) == ["n: expected integer, got number"]
    assert validation_errors({"n": 9}, SCHEMA) == ["n: 9 is greater than the maximum 5"]


def test_any_of_reports_the_closest_branch() -> None:
    schema = {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}]}
    assert validation_errors(["a", 1], schema) == ["[1]: expected string, got number"]
    assert validation_errors(3, schema) == []
