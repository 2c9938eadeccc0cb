"""schema: type hints and docstrings become the JSON Schema clients see (and build forms from)."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import jsonschema  # type: ignore[import-untyped]
import pytest

from satchel.tools.schema import Constraint, input_schema, output_schema, parse_docstring, type_schema


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(TypedDict):
    """Attributes:
    x: The x coordinate.
    """

    x: int


class Outer(TypedDict):
    """Result.

    Attributes:
        points: Some points, described over
            two lines.
        label: Optional label.
    """

    points: list[Inner]
    label: NotRequired[str]


def sample(
    text: str,
    mode: Literal["fast", "slow"] = "fast",
    colour: Colour = Colour.RED,
    limit: Annotated[int, Constraint(minimum=1, maximum=9)] = 3,
    tags: list[str] | None = None,
    weights: dict[str, float] | None = None,
    anything: Any = None,
) -> Outer:
    """Do a thing.

    Longer explanation.

    Args:
        text: The input
            text, over two lines.
        mode: How hard to try.
        limit: At most this many.
    """
    raise NotImplementedError


def test_parameters_become_properties_with_defaults_and_required() -> None:
    schema = input_schema(sample)
    assert schema["required"] == ["text"]
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert properties["text"] == {"type": "string", "description": "The input text, over two lines."}
    assert properties["mode"] == {
        "type": "string",
        "enum": ["fast", "slow"],
        "description": "How hard to try.",
        "default": "fast",
    }
    assert properties["colour"] == {"type": "string", "enum": ["red", "blue"], "default": "red"}
    assert properties["limit"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 9,
        "description": "At most this many.",
        "default": 3,
    }
    assert properties["tags"] == {"type": ["array", "null"], "items": {"type": "string"}, "default": None}
    assert properties["weights"] == {
        "type": ["object", "null"],
        "additionalProperties": {"type": "number"},
        "default": None,
    }
    assert properties["anything"] == {"default": None}
    jsonschema.Draft202012Validator.check_schema(schema)


def test_typeddict_return_becomes_output_schema_with_optional_keys() -> None:
    schema = output_schema(sample)
    assert schema == {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "integer", "description": "The x coordinate."}},
                    "required": ["x"],
                    "additionalProperties": False,
                },
                "description": "Some points, described over two lines.",
            },
            "label": {"type": "string", "description": "Optional label."},
        },
        "required": ["points"],
        "additionalProperties": False,
    }


def test_nullable_literal_keeps_null_in_the_enum() -> None:
    assert type_schema(Literal["a", "b"] | None) == {"enum": ["a", "b", None]}


def test_mixed_union_uses_any_of() -> None:
    assert type_schema(int | list[str] | None) == {
        "anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }


@pytest.mark.parametrize("bad", [tuple[int, str], dict[int, str], set])
def test_types_json_cannot_carry_are_rejected(bad: object) -> None:
    with pytest.raises(TypeError):
        type_schema(bad)


def test_docstring_summary_and_entries() -> None:
    summary, entries = parse_docstring(sample.__doc__)
    assert summary == "Do a thing.\n\nLonger explanation."
    assert entries == {
        "text": "The input text, over two lines.",
        "mode": "How hard to try.",
        "limit": "At most this many.",
    }


def test_unannotated_and_variadic_parameters_are_refused() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        """Doc."""

    def variadic(*args: int) -> None:
        """Doc."""

    with pytest.raises(TypeError, match="needs a type annotation"):
        input_schema(untyped)
    with pytest.raises(TypeError, match=r"\*args"):
        input_schema(variadic)
