"""``json_patch``: apply an RFC 6902 JSON Patch or an RFC 7386 JSON Merge Patch to a JSON document.

A JSON Patch is atomic: it works on a copy and either every operation applies or none does, and the error names
the failing operation's index, its op and the JSON Pointer (RFC 6901) that could not be followed. Equality for
``test`` is JSON's: 1 equals 1.0, but true is not 1 and object key order does not matter.

A patch is bounded before it is applied: at most ``MAX_OPERATIONS`` operations, and a running estimate of the
result's size and nesting depth, updated per operation from the size of what it adds or copies (measured before
copying), refuses a patch whose result would exceed ``MAX_RESULT_BYTES`` or ``MAX_DEPTH`` levels — ``copy`` from the
root doubles the document each time, so without it a few dozen operations fill the memory.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal, TypedDict

from satchel.tools.jsonrpc import MAX_DEPTH, type_name
from satchel.tools.tool import ToolError, tool

OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
MAX_OPERATIONS = 1000
"""Most operations one JSON Patch may have."""
MAX_RESULT_BYTES = 4 * 1024 * 1024
"""Largest document (its JSON size, estimated) a patch may produce; what ``add``, ``replace`` and ``copy`` put in
counts in full, what ``remove`` takes out does not, so the bound also limits the work a patch can cause."""


class PatchFailure(ToolError):
    """An operation that cannot be applied; the message says which one, where and why."""

    def __init__(self, index: int, op: str, detail: str) -> None:
        super().__init__(f"patch operation {index} ({op}) failed: {detail}; no operation was applied")


class PatchResult(TypedDict):
    """The patched document.

    Attributes:
        document: The document after the patch.
        operations_applied: Number of JSON Patch operations applied (0 for a merge patch).
    """

    document: Any
    operations_applied: int


def parse_pointer(pointer: object) -> list[str]:
    """RFC 6901 reference tokens of a JSON Pointer; "" is the whole document."""
    if not isinstance(pointer, str):
        raise ValueError(f"a JSON Pointer must be a string, got {type_name(pointer)}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON Pointer {pointer!r} must be empty or start with '/'")
    tokens = []
    for raw in pointer[1:].split("/"):
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise ValueError(f"JSON Pointer {pointer!r} has '~' not followed by 0 or 1")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _array_index(token: str, length: int, pointer: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token.startswith("0")):
        raise ValueError(f"{pointer!r}: {token!r} is not an array index")
    index = int(token)
    limit = length if allow_end else length - 1
    if index > limit:
        raise ValueError(f"{pointer!r}: index {index} is out of range for an array of {length}")
    return index


def resolve(document: Any, pointer: str) -> Any:
    """The value a JSON Pointer refers to; raises ValueError naming the path and the missing step."""
    current = document
    for token in parse_pointer(pointer):
        current = _step(current, token, pointer)
    return current


def _step(current: Any, token: str, pointer: str) -> Any:
    if isinstance(current, dict):
        if token not in current:
            raise ValueError(f"{pointer!r}: no member {token!r}")
        return current[token]
    if isinstance(current, list):
        return current[_array_index(token, len(current), pointer, allow_end=False)]
    raise ValueError(f"{pointer!r}: cannot descend into a {type_name(current)}")


def _resolve_parent_path(document: Any, pointer: str) -> tuple[Any, str]:
    tokens = parse_pointer(pointer)
    if not tokens:
        raise ValueError("the root has no parent")
    current = document
    for token in tokens[:-1]:
        current = _step(current, token, pointer)
    return current, tokens[-1]


def _add(document: Any, pointer: str, value: Any) -> Any:
    if pointer == "":
        return value
    parent, token = _resolve_parent_path(document, pointer)
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_array_index(token, len(parent), pointer, allow_end=True), value)
    else:
        raise ValueError(f"{pointer!r}: cannot add into a {type_name(parent)}")
    return document


def _remove(document: Any, pointer: str) -> tuple[Any, Any]:
    if pointer == "":
        raise ValueError("cannot remove the whole document")
    parent, token = _resolve_parent_path(document, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise ValueError(f"{pointer!r}: no member {token!r} to remove")
        return document, parent.pop(token)
    if isinstance(parent, list):
        return document, parent.pop(_array_index(token, len(parent), pointer, allow_end=False))
    raise ValueError(f"{pointer!r}: cannot remove from a {type_name(parent)}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON defines it (RFC 6902 §4.6)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _member(operation: dict[str, Any], name: str, index: int, op: str) -> Any:
    if name not in operation:
        raise PatchFailure(index, op, f'the operation has no "{name}" member')
    return operation[name]


def apply_json_patch(document: Any, patch: object) -> tuple[Any, int]:
    """Apply an RFC 6902 patch to a copy of ``document``; returns the result and the number of operations."""
    if not isinstance(patch, list):
        raise ToolError(
            f"a JSON Patch is an array of operations, got {type_name(patch)} (use mode merge for merge patches)"
        )
    if len(patch) > MAX_OPERATIONS:
        raise ToolError(
            f"the patch has {len(patch):,} operations; the limit is {MAX_OPERATIONS:,} — split it into several calls"
        )
    budget = _Budget(document)
    result = copy.deepcopy(document)
    for index, operation in enumerate(patch):
        if not isinstance(operation, dict):
            raise PatchFailure(index, "?", f"an operation is an object, got {type_name(operation)}")
        op = operation.get("op")
        if op not in OPERATIONS:
            raise PatchFailure(index, str(op), f'"op" must be one of {", ".join(OPERATIONS)}')
        path = _member(operation, "path", index, op)
        try:
            budget.check(index, op, operation, result)
            if op == "add":
                result = _add(result, path, copy.deepcopy(_member(operation, "value", index, op)))
            elif op == "remove":
                result, _ = _remove(result, path)
            elif op == "replace":
                value = copy.deepcopy(_member(operation, "value", index, op))
                resolve(result, path)
                if path == "":
                    result = value
                else:
                    result, _ = _remove(result, path)
                    result = _add(result, path, value)
            elif op in ("move", "copy"):
                source = _member(operation, "from", index, op)
                if op == "move" and path != source and (path + "/").startswith(source + "/"):
                    raise ValueError(f"cannot move {source!r} into its own child {path!r}")
                value = resolve(result, source)
                if op == "move":
                    result, value = _remove(result, source)
                else:
                    value = copy.deepcopy(value)
                result = _add(result, path, value)
            else:
                expected = _member(operation, "value", index, op)
                actual = resolve(result, path)
                if not json_equal(actual, expected):
                    raise ValueError(f"test at {path!r}: expected {_show(expected)}, found {_show(actual)}")
        except ValueError as error:
            raise PatchFailure(index, op, str(error)) from None
    return result, len(patch)


class _Budget:
    """Upper bounds of the patched document's JSON size and nesting depth, kept as each operation is checked."""

    def __init__(self, document: Any) -> None:
        self.size, self.depth = measure(document, MAX_RESULT_BYTES)
        if self.size > MAX_RESULT_BYTES:
            raise ToolError(f"the document is larger than the limit of {MAX_RESULT_BYTES:,} bytes")

    def check(self, index: int, op: str, operation: dict[str, Any], result: Any) -> None:
        """Refuse the operation, before it runs, if the result could grow past a limit."""
        if op in ("remove", "test"):
            return
        path = _member(operation, "path", index, op)
        target_depth = len(parse_pointer(path))
        if op == "move":
            # The moved value lies at most this deep below its old place, so it ends at most this deep.
            source = _member(operation, "from", index, op)
            added_size, added_depth = 0, max(0, self.depth - len(parse_pointer(source)))
        else:
            if op == "copy":
                value = resolve(result, _member(operation, "from", index, op))
            else:
                value = _member(operation, "value", index, op)
            added_size, added_depth = measure(value, MAX_RESULT_BYTES - self.size)
        self.size += added_size
        self.depth = max(self.depth, target_depth + added_depth)
        if self.size > MAX_RESULT_BYTES:
            raise PatchFailure(
                index, op, f"the result would be larger than the limit of {MAX_RESULT_BYTES:,} bytes"
            )
        if self.depth > MAX_DEPTH:
            raise PatchFailure(
                index, op, f"the result could nest deeper than the limit of {MAX_DEPTH} levels"
            )


def measure(value: Any, budget: int) -> tuple[int, int]:
    """About how many bytes ``value`` takes as JSON, and how deeply it nests (a scalar is 0, [] is 1).

    Walks without recursion and stops once the size passes ``budget``, so measuring costs at most that much.
    """
    size, depth = 0, 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and size <= budget:
        item, level = stack.pop()
        if isinstance(item, dict):
            size += 2 + sum(len(key) + 4 for key in item)
            depth = max(depth, level + 1)
            stack.extend((member, level + 1) for member in item.values())
        elif isinstance(item, list):
            size += 2 + len(item)
            depth = max(depth, level + 1)
            stack.extend((member, level + 1) for member in item)
        elif isinstance(item, str):
            size += len(item) + 2
        else:
            size += len(str(item))
    return size, depth


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge member by member, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = apply_merge_patch(merged.get(key), value)
    return merged


@tool(title="Apply a JSON patch")
def json_patch(document: Any, patch: Any, mode: Literal["json-patch", "merge"] = "json-patch") -> PatchResult:
    """Apply a JSON Patch (RFC 6902: add, remove, replace, move, copy, test) or a JSON Merge Patch (RFC 7386)
    to a JSON document and return the result. A JSON Patch applies entirely or not at all.

    Args:
        document: The JSON document to patch (any JSON value).
        patch: For json-patch, an array of at most 1000 operations such as {"op": "replace", "path": "/a/0",
            "value": 1}; for merge, a JSON value to merge in (null members delete). The result may be at most
            4 MiB of JSON.
        mode: "json-patch" (RFC 6902) or "merge" (RFC 7386).
    """
    if mode == "merge":
        return {"document": apply_merge_patch(document, patch), "operations_applied": 0}
    patched, count = apply_json_patch(document, patch)
    return {"document": patched, "operations_applied": count}
