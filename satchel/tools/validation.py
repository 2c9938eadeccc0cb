"""Check tool arguments against the JSON Schema subset that ``schema.py`` generates, with messages a model can act on.

Stdlib only (the browser runs this on Pyodide, where ``jsonschema`` would be one more wheel to ship): it implements
exactly the keywords our generator emits — type, enum, properties, required, additionalProperties, items, anyOf,
minimum/maximum/exclusiveMinimum, min/maxLength, min/maxItems and pattern.
"""

from __future__ import annotations

import re
from typing import Any

from satchel.tools.jsonrpc import type_name

JsonSchema = dict[str, Any]


def _matches_type(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def _where(path: str) -> str:
    return path or "arguments"


def validation_errors(value: object, schema: JsonSchema, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``, each prefixed by where (``text``, ``operations[2].path``)."""
    errors: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_matches_type(value, k) for k in kinds):
            wanted = " or ".join(kinds)
            return [f"{_where(path)}: expected {wanted}, got {type_name(value)}"]
    if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
        options = ", ".join(repr(option) for option in schema["enum"])
        return [f"{_where(path)}: {value!r} is not one of {options}"]
    if "anyOf" in schema:
        branches = [validation_errors(value, branch, path) for branch in schema["anyOf"]]
        if all(branches):
            # The branch whose type matched explains the fault better than one that wanted another type.
            mismatch = f"{_where(path)}: expected "
            return min(branches, key=lambda found: (found[0].startswith(mismatch), len(found)))
    if isinstance(value, str):
        errors += _string_errors(value, schema, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        errors += _number_errors(value, schema, path)
    if isinstance(value, list):
        errors += _array_errors(value, schema, path)
    if isinstance(value, dict):
        errors += _object_errors(value, schema, path)
    return errors


def _string_errors(value: str, schema: JsonSchema, path: str) -> list[str]:
    errors = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{_where(path)}: must have at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{_where(path)}: must have at most {schema['maxLength']} characters")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errors.append(f"{_where(path)}: {value!r} does not match the pattern {schema['pattern']}")
    return errors


def _number_errors(value: float, schema: JsonSchema, path: str) -> list[str]:
    errors = []
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{_where(path)}: {value} is less than the minimum {schema['minimum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        errors.append(f"{_where(path)}: {value} must be greater than {schema['exclusiveMinimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{_where(path)}: {value} is greater than the maximum {schema['maximum']}")
    return errors


def _array_errors(value: list[Any], schema: JsonSchema, path: str) -> list[str]:
    errors = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{_where(path)}: must have at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{_where(path)}: must have at most {schema['maxItems']} items")
    if "items" in schema:
        for index, item in enumerate(value):
            errors += validation_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def _object_errors(value: dict[str, Any], schema: JsonSchema, path: str) -> list[str]:
    errors = []
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    prefix = f"{path}." if path else ""
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{prefix}{key}: required but missing")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            errors += validation_errors(item, properties[key], f"{prefix}{key}")
        elif extra is False:
            known = ", ".join(properties) or "none"
            errors.append(f"{prefix}{key}: unexpected (accepted: {known})")
        elif isinstance(extra, dict):
            errors += validation_errors(item, extra, f"{prefix}{key}")
    return errors


def _json_equal(a: object, b: object) -> bool:
    """Equality as JSON sees it: true is not 1, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b
