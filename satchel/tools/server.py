"""The transport-free MCP tool server: messages in, messages out, no I/O and no event loop.

``ToolServer.start(message)`` returns an ``Exchange`` that a driver advances step by step, sending what each step
yields (progress notifications, then the response); between steps the driver may hand the server other messages,
so a ``notifications/cancelled`` takes effect while a call is running. ``handle``/``handle_line`` run a message to
completion for simple drivers. The stdio driver (``stdio.py``) and the browser worker both drive this one core.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, ParamSpec, TypeVar

from satchel.tools import jsonrpc
from satchel.tools.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    JsonObject,
    JsonRpcError,
    Reply,
    Request,
    RequestId,
)
from satchel.tools.protocol import (
    LATEST_HANDSHAKE_VERSION,
    MODERN_VERSIONS,
    SERVER_INFO_KEY,
    Era,
    envelope_version,
    negotiate_handshake,
)
from satchel.tools.tool import PURE_FUNCTION, Progress, Tool, ToolAnnotations, ToolContext, ToolError, tool
from satchel.tools.validation import validation_errors

P = ParamSpec("P")
R = TypeVar("R")

MAX_MESSAGE_CHARS = 16 * 1024 * 1024
"""A line longer than this is refused before parsing, so one message cannot exhaust memory."""
MAX_STRING_BYTES = 1024 * 1024
"""Largest string argument (UTF-8 bytes) a tool accepts; beyond it the call is refused as invalid params."""
LIST_TTL_MS = 3_600_000
"""2026 cache hint for tools/list and server/discover: the tool set is fixed for the life of a build."""

Step = JsonObject | None
"""What one step of an exchange produces: a message to send, or None when it only made progress silently."""


class Exchange:
    """One incoming message being served. Iterate it (or call ``step``) to run it; each step returns the
    messages to send now. A tool call yields between its steps, which is when cancellation takes effect."""

    def __init__(
        self,
        request_id: RequestId | None,
        steps: Generator[Step, None, None],
        is_tool_call: bool,
        context: ToolContext | None = None,
    ) -> None:
        self.request_id = request_id
        self.is_tool_call = is_tool_call
        self.context = context if context is not None else ToolContext()
        self.done = False
        self._steps = steps

    @property
    def cancelled(self) -> bool:
        return self.context.cancelled

    def step(self) -> list[JsonObject]:
        """Advance one step; returns the messages it produced (possibly none). Does nothing once done."""
        if self.done:
            return []
        try:
            produced = next(self._steps)
        except StopIteration:
            self.done = True
            return []
        return [] if produced is None else [produced]

    def __iter__(self) -> Iterator[list[JsonObject]]:
        while not self.done:
            yield self.step()

    def run(self) -> list[JsonObject]:
        """Run to completion and return every message produced, in order."""
        return [message for batch in self for message in batch]


class ToolServer:
    """An MCP server offering tools; the same object serves the 2025 handshake era and the 2026 stateless era."""

    def __init__(self, name: str, version: str, *, title: str | None = None, instructions: str | None = None):
        self.info: JsonObject = {"name": name, "version": version}
        if title:
            self.info["title"] = title
        self.instructions = instructions
        self.negotiated_version: str | None = None
        """Set by ``initialize``; requests without the 2026 envelope are served at it (latest if none yet)."""
        self.initialized = False
        self._tools: dict[str, Tool[Any, Any]] = {}
        self._in_flight: dict[str, Exchange] = {}
        self._lock = threading.Lock()

    # -- registration -------------------------------------------------------------------------------------------

    def tool(
        self,
        *,
        name: str | None = None,
        title: str | None = None,
        annotations: ToolAnnotations = PURE_FUNCTION,
    ) -> Callable[[Callable[P, R]], Tool[P, R]]:
        """Register a function as a tool (see ``satchel.tools.tool.tool`` for what is derived from it)."""

        def wrap(function: Callable[P, R]) -> Tool[P, R]:
            made = tool(name=name, title=title, annotations=annotations)(function)
            self.add(made)
            return made

        return wrap

    def add(self, new_tool: Tool[Any, Any]) -> None:
        if new_tool.name in self._tools:
            raise ValueError(f"a tool named {new_tool.name!r} is already registered")
        self._tools[new_tool.name] = new_tool

    @property
    def tools(self) -> list[Tool[Any, Any]]:
        return list(self._tools.values())

    # -- entry points for drivers -------------------------------------------------------------------------------

    def start_line(self, line: str) -> Exchange:
        """Begin serving one line of the stdio/worker stream (parse errors become error responses)."""
        if len(line) > MAX_MESSAGE_CHARS:
            return self.refuse_oversized_line()
        try:
            message = jsonrpc.decode(line)
        except JsonRpcError as error:
            return self._finished(None, jsonrpc.error_response(None, error))
        return self.start(message)

    def refuse_oversized_line(self) -> Exchange:
        """The answer to a line longer than ``MAX_MESSAGE_CHARS``, which a driver may skip without reading it whole."""
        error = JsonRpcError(
            INVALID_REQUEST,
            f"Invalid request: message longer than {MAX_MESSAGE_CHARS:,} characters (the limit); it was skipped",
            {"limit": MAX_MESSAGE_CHARS},
        )
        return self._finished(None, jsonrpc.error_response(None, error))

    def start(self, message: object) -> Exchange:
        """Begin serving one decoded message; advance the returned exchange to run it."""
        try:
            parsed = jsonrpc.parse_message(message)
        except JsonRpcError as error:
            return self._finished(None, jsonrpc.error_response(jsonrpc.id_of(message), error))
        if isinstance(parsed, Reply):
            return self._finished(None, None)
        if parsed.is_notification:
            self._notify(parsed)
            return self._finished(None, None)
        assert parsed.id is not None
        try:
            return self._request(parsed, parsed.id)
        except JsonRpcError as error:
            return self._finished(parsed.id, jsonrpc.error_response(parsed.id, error))

    def handle(self, message: object) -> list[JsonObject]:
        """Serve one decoded message to completion; returns notifications then the response (if any)."""
        return self.start(message).run()

    def handle_line(self, line: str) -> list[str]:
        """Serve one line to completion; returns the lines to write back."""
        return [jsonrpc.encode(out) for out in self.start_line(line).run()]

    def cancel(self, request_id: object) -> bool:
        """Ask a running call to stop at its next step; it then sends no response. False if nothing matched."""
        with self._lock:
            exchange = self._in_flight.get(_key(request_id))
        if exchange is None:
            return False
        exchange.context.cancelled = True
        return True

    # -- dispatch -----------------------------------------------------------------------------------------------

    def _finished(self, request_id: RequestId | None, message: JsonObject | None) -> Exchange:
        def steps() -> Generator[Step, None, None]:
            if message is not None:
                yield message

        return Exchange(request_id, steps(), is_tool_call=False)

    def _notify(self, notification: Request) -> None:
        if notification.method == "notifications/initialized":
            self.initialized = True
        elif notification.method == "notifications/cancelled":
            self.cancel(notification.params.get("requestId"))
        # Other notifications (progress from a client, roots changes) mean nothing to a tools-only server.

    def _era(self, request: Request) -> Era:
        if request.method != "initialize":
            version = envelope_version(request.params)
            if version is not None:
                return Era(version, modern=True)
        return Era(self.negotiated_version or LATEST_HANDSHAKE_VERSION, modern=False)

    def _request(self, request: Request, request_id: RequestId) -> Exchange:
        era = self._era(request)
        if request.method == "tools/call":
            return self._start_call(request, request_id, era)
        if request.method == "initialize":
            result = self._initialize(request.params)
        elif request.method == "server/discover":
            result = self._discover(era)
        elif request.method == "ping":
            result = {}
        elif request.method == "tools/list":
            result = self._list_tools(request.params, era)
        else:
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method!r}")
        return self._finished(request_id, jsonrpc.response(request_id, self._envelope(result, era)))

    def _envelope(self, result: JsonObject, era: Era) -> JsonObject:
        if era.modern:
            result["resultType"] = "complete"
            result["_meta"] = {**result.get("_meta", {}), SERVER_INFO_KEY: dict(self.info)}
        return result

    def _capabilities(self) -> JsonObject:
        return {"tools": {"listChanged": False}}

    def _initialize(self, params: JsonObject) -> JsonObject:
        version = negotiate_handshake(params.get("protocolVersion"))
        self.negotiated_version = version
        result: JsonObject = {
            "protocolVersion": version,
            "capabilities": self._capabilities(),
            "serverInfo": dict(self.info),
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return result

    def _discover(self, era: Era) -> JsonObject:
        if not era.modern:
            raise JsonRpcError(
                INVALID_PARAMS,
                "server/discover needs the 2026-07-28 envelope in params._meta "
                "(io.modelcontextprotocol/protocolVersion and clientCapabilities)",
            )
        result: JsonObject = {
            "supportedVersions": list(MODERN_VERSIONS),
            "capabilities": self._capabilities(),
        }
        if self.instructions:
            result["instructions"] = self.instructions
        result.update(ttlMs=LIST_TTL_MS, cacheScope="public")
        return result

    def _list_tools(self, params: JsonObject, era: Era) -> JsonObject:
        if params.get("cursor") is not None:
            raise JsonRpcError(
                INVALID_PARAMS, "Invalid params for tools/list: unknown cursor (the list has one page)"
            )
        definitions = [entry.definition() for entry in self._tools.values()]
        if not era.has_structured_output:
            for entry in definitions:
                entry.pop("outputSchema", None)
                entry.pop("title", None)
        result: JsonObject = {"tools": definitions}
        if era.modern:
            result.update(ttlMs=LIST_TTL_MS, cacheScope="public")
        return result

    def _start_call(self, request: Request, request_id: RequestId, era: Era) -> Exchange:
        name = request.params.get("name")
        if not isinstance(name, str):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params for tools/call: name must be a string")
        target = self._tools.get(name)
        if target is None:
            known = ", ".join(self._tools)
            raise JsonRpcError(INVALID_PARAMS, f"Unknown tool: {name!r} (this server offers: {known})")
        arguments = request.params.get("arguments")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params for tools/call: arguments must be an object")
        _check_sizes(arguments, name)
        meta = request.params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        if token is not None and not jsonrpc.valid_id(token):
            raise JsonRpcError(
                INVALID_PARAMS, "Invalid params: _meta.progressToken must be a string or an integer"
            )
        context = ToolContext()
        steps = self._call_steps(request_id, context, target, arguments, token, era)
        exchange = Exchange(request_id, steps, is_tool_call=True, context=context)
        key = _key(request_id)
        with self._lock:
            if key in self._in_flight:
                raise JsonRpcError(INVALID_REQUEST, f"Invalid request: id {request_id!r} is already in use")
            self._in_flight[key] = exchange
        return exchange

    def _call_steps(
        self,
        request_id: RequestId,
        context: ToolContext,
        target: Tool[Any, Any],
        arguments: JsonObject,
        token: RequestId | None,
        era: Era,
    ) -> Generator[Step, None, None]:
        try:
            problems = validation_errors(arguments, target.input_schema)
            if problems:
                text = f"Invalid arguments for {target.name}: " + "; ".join(problems)
                yield jsonrpc.response(request_id, self._envelope(_error_result(text), era))
                return
            steps = target.steps(arguments, context)
            while True:
                if context.cancelled:
                    steps.close()
                    return
                try:
                    progress = next(steps)
                except StopIteration as stop:
                    outcome = stop.value
                    break
                yield None if token is None else _progress_notification(token, progress)
            if context.cancelled:
                return
            result = _success_result(outcome, target, era)
        except ToolError as failure:
            result = _error_result(str(failure))
        except (
            Exception
        ) as failure:  # boundary: a tool bug must become an isError result, never a dead server
            result = _error_result(f"{target.name} failed unexpectedly: {type(failure).__name__}: {failure}")
        finally:
            with self._lock:
                self._in_flight.pop(_key(request_id), None)
        yield jsonrpc.response(request_id, self._envelope(result, era))


def _key(request_id: object) -> str:
    """Ids 1 and "1" are different requests; their JSON spelling tells them apart."""
    return json.dumps(request_id)


def _check_sizes(arguments: JsonObject, tool_name: str) -> None:
    """Refuse oversized strings before any work, naming the argument and the limit."""
    stack: list[tuple[str, object]] = [(key, value) for key, value in arguments.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if len(value) * 4 > MAX_STRING_BYTES and len(value.encode("utf-8")) > MAX_STRING_BYTES:
                size = len(value.encode("utf-8"))
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"Invalid params for {tool_name}: argument {path!r} is {size:,} bytes; the limit is "
                    f"{MAX_STRING_BYTES:,} bytes (1 MiB) — split the input into smaller calls",
                    {"argument": path, "bytes": size, "limit": MAX_STRING_BYTES},
                )
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def _progress_notification(token: RequestId, progress: Progress) -> JsonObject:
    params: JsonObject = {"progressToken": token, "progress": progress.progress}
    if progress.total is not None:
        params["total"] = progress.total
    if progress.message is not None:
        params["message"] = progress.message
    return jsonrpc.notification("notifications/progress", params)


def _error_result(text: str) -> JsonObject:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _success_result(outcome: object, target: Tool[Any, Any], era: Era) -> JsonObject:
    if isinstance(outcome, str) and target.output_schema is None:
        return {"content": [{"type": "text", "text": outcome}], "isError": False}
    text = json.dumps(outcome, ensure_ascii=False, allow_nan=False)
    result: JsonObject = {"content": [{"type": "text", "text": text}], "isError": False}
    if target.output_schema is not None and era.has_structured_output:
        result["structuredContent"] = outcome
    return result
