"""Derive JSON Schema from Python type hints and docstrings, so a tool's signature is its only contract.

Supports what tool signatures need: str/int/float/bool/None, Any, Literal and Enum (``enum``), ``X | None``,
``list[X]``/``Sequence[X]``, ``dict[str, X]``, TypedDict (``properties``/``required``, nested inline, no ``$ref``:
the browser builds forms from these schemas), and ``Annotated[X, Constraint(...)]`` or ``Annotated[X, "text"]`` for
bounds and descriptions. Parameter descriptions come from a Google-style ``Args:`` (or ``Attributes:``) section.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin, get_type_hints, is_typeddict

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Constraint:
    """Bounds a value, for use in ``Annotated[int, Constraint(minimum=0)]``; each field is a JSON Schema keyword."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    pattern: str | None = None

    def keywords(self) -> JsonSchema:
        names = {
            "minimum": "minimum",
            "maximum": "maximum",
            "exclusive_minimum": "exclusiveMinimum",
            "min_length": "minLength",
            "max_length": "maxLength",
            "min_items": "minItems",
            "max_items": "maxItems",
            "pattern": "pattern",
        }
        return {key: getattr(self, attr) for attr, key in names.items() if getattr(self, attr) is not None}


_SIMPLE: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Attributes|Returns|Yields|Raises|Examples?|Notes?):\s*$"
)
_ENTRY = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def type_schema(annotation: object, description: str | None = None) -> JsonSchema:
    """The JSON Schema of one annotation; raises TypeError for types a JSON client could not send."""
    schema = _type_schema(annotation)
    if description:
        schema = {**schema, "description": description}
    return schema


def _type_schema(tp: object) -> JsonSchema:
    if tp in _SIMPLE:
        return {"type": _SIMPLE[tp]}
    if tp is Any or tp is object:
        return {}
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is typing.Annotated:
        schema = dict(_type_schema(args[0]))
        for extra in args[1:]:
            if isinstance(extra, Constraint):
                schema.update(extra.keywords())
            elif isinstance(extra, str):
                schema["description"] = extra
        return schema
    if origin is Literal:
        return _enum_schema(list(args))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_schema([member.value for member in tp])
    if origin in (typing.Union, types.UnionType):
        return _union_schema(args)
    if origin in (list, collections.abc.Sequence, tuple, set, frozenset) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise TypeError(f"fixed-length tuples are not supported in tool signatures: {tp!r}")
        return {"type": "array", "items": _type_schema(args[0])}
    if origin in (dict, collections.abc.Mapping) and args:
        if args[0] is not str:
            raise TypeError(f"JSON object keys are strings; cannot describe {tp!r}")
        return {"type": "object", "additionalProperties": _type_schema(args[1])}
    if tp in (list, tuple):
        return {"type": "array"}
    if tp is dict:
        return {"type": "object"}
    if is_typeddict(tp):
        return typeddict_schema(tp)
    raise TypeError(f"cannot derive a JSON Schema for {tp!r}")


def _enum_schema(values: list[object]) -> JsonSchema:
    schema: JsonSchema = {"enum": values}
    kinds = {_SIMPLE.get(type(value)) for value in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _union_schema(args: tuple[object, ...]) -> JsonSchema:
    members = [_type_schema(arg) for arg in args if arg is not type(None)]
    nullable = len(members) < len(args)
    if len(members) == 1 and nullable:
        only = members[0]
        if isinstance(only.get("type"), str) and "enum" not in only:
            return {**only, "type": [only["type"], "null"]}
        if "enum" in only:
            widened = {**only, "enum": [*only["enum"], None]}
            widened.pop("type", None)
            return widened
    if nullable:
        members.append({"type": "null"})
    return {"anyOf": members}


def typeddict_schema(tp: Any) -> JsonSchema:
    """An object schema for a TypedDict: its keys, which are required, descriptions from its docstring."""
    hints = get_type_hints(tp, include_extras=True)
    _, descriptions = parse_docstring(tp.__doc__)
    properties = {
        key: type_schema(_strip_required(hint), descriptions.get(key)) for key, hint in hints.items()
    }
    # Read NotRequired/Required from the hints: under postponed annotations, Python 3.11 does not reflect them
    # in __required_keys__.
    required = [key for key, hint in hints.items() if _is_required(hint, total=tp.__total__)]
    schema: JsonSchema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _is_required(hint: object, *, total: bool) -> bool:
    origin = get_origin(hint)
    if origin is typing.NotRequired:
        return False
    return total or origin is typing.Required


def _strip_required(hint: object) -> object:
    if get_origin(hint) in (typing.NotRequired, typing.Required):
        return get_args(hint)[0]
    return hint


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its description and per-name entries of ``Args:``/``Attributes:``."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    entries: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    entry_indent = 0
    for line in lines:
        heading = _SECTION.match(line)
        if heading:
            section, current = heading.group(1), None
            continue
        if section is None:
            summary.append(line)
            continue
        if section not in ("Args", "Arguments", "Parameters", "Attributes"):
            continue
        entry = _ENTRY.match(line)
        if entry and (current is None or len(entry.group(1)) <= entry_indent):
            entry_indent = len(entry.group(1))
            current = entry.group(2).lstrip("*")
            entries[current] = entry.group(3).strip()
        elif current is not None and line.strip():
            entries[current] = f"{entries[current]} {line.strip()}".strip()
    return "\n".join(summary).strip(), entries


def _is_context(annotation: object, context_type: type | None) -> bool:
    return context_type is not None and annotation is context_type


def input_schema(fn: Callable[..., object], context_type: type | None = None) -> JsonSchema:
    """The ``inputSchema`` of a tool function: one property per parameter, required when it has no default.

    A parameter annotated with ``context_type`` is injected by the server, not sent by the client, so it is left out.
    """
    hints = get_type_hints(fn, include_extras=True)
    _, descriptions = parse_docstring(fn.__doc__)
    properties: JsonSchema = {}
    required: list[str] = []
    for name, parameter in inspect.signature(fn).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{fn.__name__}: *args/**kwargs cannot be described to a client")
        if name not in hints:
            raise TypeError(f"{fn.__name__}: parameter {name!r} needs a type annotation")
        if _is_context(hints[name], context_type):
            continue
        schema = type_schema(hints[name], descriptions.get(name))
        if parameter.default is parameter.empty:
            required.append(name)
        else:
            default = parameter.default
            schema["default"] = default.value if isinstance(default, enum.Enum) else default
        properties[name] = schema
    schema_out: JsonSchema = {"type": "object", "properties": properties}
    if required:
        schema_out["required"] = required
    schema_out["additionalProperties"] = False
    return schema_out


def return_annotation(fn: Callable[..., object]) -> object:
    """The type a tool produces: the return annotation, or ``R`` of a ``Generator[Progress, None, R]``."""
    annotation = get_type_hints(fn, include_extras=True).get("return", Any)
    if get_origin(annotation) in (collections.abc.Generator, typing.Generator):
        args = get_args(annotation)
        return args[2] if len(args) == 3 else Any
    return annotation


def output_schema(fn: Callable[..., object]) -> JsonSchema | None:
    """The ``outputSchema`` of a tool returning a TypedDict (structured output); None for other return types."""
    annotation = return_annotation(fn)
    if is_typeddict(annotation):
        return typeddict_schema(annotation)
    return None
