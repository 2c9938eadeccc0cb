"""JSON-RPC 2.0 framing for the tool server: decoding one line, checking a message's shape, building replies.

MCP's stdio transport carries one JSON-RPC message per line and has dropped batches (since 2025-06-18); this module
knows nothing about MCP methods, only the envelope, so the same checks serve stdio and the browser worker port.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate, count
from operator import sub
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNSUPPORTED_PROTOCOL_VERSION = -32022
#: Satchel's own: a call the site's managed policy does not allow (app/common/protocol.js `DENIED_BY_POLICY`).
DENIED_BY_POLICY = -32011

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a message may have, counting the message object itself.

Checked on the raw line before it is parsed, so neither the parser nor any code that walks the parsed value
(argument validation, a tool copying a document) recurses deeper than this; the native servers and Pyodide,
whose stack is far smaller, get the same clear error instead of a RecursionError or a crash.
"""

RequestId = str | int
JsonObject = dict[str, Any]


class JsonRpcError(Exception):
    """An error that becomes a JSON-RPC error response: raise it anywhere while handling a request."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_error(self) -> JsonObject:
        error: JsonObject = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


@dataclass(frozen=True)
class Request:
    """A request (it has an id and expects a response) or a notification (``id`` is None)."""

    method: str
    params: JsonObject
    id: RequestId | None

    @property
    def is_notification(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class Reply:
    """A response or error the peer sent us; the tool server sends no requests, so replies are ignored."""

    id: RequestId | None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]++")
_OPENERS = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def nesting_depth(line: str, limit: int = MAX_DEPTH) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings do not count).

    Linear in the line and without recursion, at C speed: strings are cut out, the brackets become +1/-1 steps
    and the running sum's maximum is the depth. A text with at most ``limit`` opening brackets cannot be deeper
    than ``limit``, so ordinary messages skip the scan and get their count instead (a bound, not the depth).
    """
    opening = line.count("[") + line.count("{")
    if opening <= limit:
        return opening
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", line)).translate(_OPENERS).encode("ascii")
    # Each opener is 2 and each closer 0, so the depth after n brackets is their sum minus n.
    return max(map(sub, accumulate(brackets), count(1)), default=0)


def decode(line: str) -> object:
    """Parse one line of JSON; raises JsonRpcError(PARSE_ERROR) with the position of the fault, or naming
    ``MAX_DEPTH`` for a line nested deeper than that (refused unparsed: its id cannot be known)."""
    if nesting_depth(line) > MAX_DEPTH:
        raise JsonRpcError(
            PARSE_ERROR,
            f"Parse error: arrays and objects nest more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH}",
            {"limit": MAX_DEPTH},
        )
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonRpcError(
            PARSE_ERROR, f"Parse error: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise JsonRpcError(PARSE_ERROR, f"Parse error: {exc}") from None
    except RecursionError:
        raise JsonRpcError(PARSE_ERROR, "Parse error: the JSON is nested too deeply") from None


def encode(message: JsonObject) -> str:
    """Serialise one message as a single line (JSON never needs a raw newline: strings escape it)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def valid_id(value: object) -> bool:
    """MCP request ids are strings or integers (never null, never a float, never a boolean)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def id_of(message: object) -> RequestId | None:
    """The request id to echo in an error about a malformed message, when one can be read at all."""
    if isinstance(message, dict):
        candidate = message.get("id")
        if valid_id(candidate):
            return candidate
    return None


def parse_message(message: object) -> Request | Reply:
    """Check the JSON-RPC 2.0 envelope; raises JsonRpcError(INVALID_REQUEST) saying what is wrong."""
    if isinstance(message, list):
        raise JsonRpcError(INVALID_REQUEST, "Invalid request: batches are not supported (MCP removed them)")
    if not isinstance(message, dict):
        raise JsonRpcError(
            INVALID_REQUEST, f"Invalid request: expected a JSON object, got {type_name(message)}"
        )
    if message.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be exactly "2.0"')
    has_id = "id" in message
    if has_id and not valid_id(message["id"]):
        raise JsonRpcError(INVALID_REQUEST, 'Invalid request: "id" must be a string or an integer')
    request_id: RequestId | None = message["id"] if has_id else None
    if "method" not in message:
        if has_id and ("result" in message or "error" in message):
            return Reply(request_id)
        raise JsonRpcError(INVALID_REQUEST, 'Invalid request: no "method" member')
    method = message["method"]
    if not isinstance(method, str) or not method:
        raise JsonRpcError(INVALID_REQUEST, 'Invalid request: "method" must be a non-empty string')
    params = message.get("params", {})
    if params is None:
        params = {}
    if isinstance(params, list):
        raise JsonRpcError(
            INVALID_PARAMS, f"Invalid params for {method}: MCP params are an object, not an array"
        )
    if not isinstance(params, dict):
        raise JsonRpcError(
            INVALID_REQUEST, f'Invalid request: "params" must be an object, got {type_name(params)}'
        )
    return Request(method=method, params=params, id=request_id)


def response(request_id: RequestId, result: JsonObject) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_response(request_id: RequestId | None, error: JsonRpcError) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_error()}


def notification(method: str, params: JsonObject) -> JsonObject:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def type_name(value: object) -> str:
    """The JSON name of a Python value's type, for messages a client author will read."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
