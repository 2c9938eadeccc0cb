"""`/relay/<scheme>/<host[:port]>/<path>?<query>`: the same-origin relay through which the app reaches a remote MCP
server that sends no CORS headers.

The service worker talks to a remote server directly when the server allows it (CORS); when it does not, it sends
the request here instead and `satchel serve` forwards it. The path names the target (`https://mcp.example/a?b` is
`/relay/https/mcp.example/a?b`, the one form a kiosk bundle's nginx or Caddy relay answers too, satchel/bundle/
relay_proxy.py), and the target's path and query go on exactly as the page sent them. Only the app's own pages may
use the relay: a request must carry `X-Satchel-Relay: 1`, a custom header that makes a browser send a CORS preflight
first, which the relay never answers, so no other origin gets through. Only the headers MCP needs go either way
(never cookies), redirects are passed back rather than followed, and the target's addresses are checked where the
connection is made (satchel/relay_guard.py). Every limit is in `RelayLimits`; streamed answers (SSE) go on chunk by
chunk, and a client that goes away closes the upstream request.

An error of the relay itself carries `X-Satchel-Relay-Error` (a kind from `ErrorKind`) and a JSON body
`{"error": "..."}`; any other status is the upstream's own. Nothing logged names more of the target than its origin:
paths, query strings and the Authorization header may hold secrets.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import anyio
import httpcore
import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from satchel.policy import Policy
from satchel.relay_guard import (
    AddressRefused,
    AddressRules,
    GuardedNetworkBackend,
    Resolver,
    is_host,
    system_resolver,
)

log = logging.getLogger("satchel.relay")

RELAY_PATH = "/relay"
METHODS = ("GET", "POST", "DELETE")
#: The header a request must carry (value "1"): other origins cannot send it without a preflight.
RELAY_HEADER = "X-Satchel-Relay"
#: On every relayed answer: the origin it came from.
TARGET_HEADER = "X-Satchel-Relay-Target"
#: On every error of the relay itself, so the service worker can tell it from the upstream's own status.
ERROR_HEADER = "X-Satchel-Relay-Error"
ErrorKind = Literal["invalid", "forbidden", "refused", "unreachable", "timeout", "too-large"]

#: Request headers passed on; everything else (cookies above all) stays here.
FORWARDED_REQUEST_HEADERS = (
    "accept",
    "content-type",
    "authorization",
    "mcp-protocol-version",
    "mcp-session-id",
    "last-event-id",
    "mcp-method",
    "mcp-name",
)
#: Response headers passed back (`location` unchanged: redirects are the client's to follow, or not).
RETURNED_RESPONSE_HEADERS = (
    "content-type",
    "mcp-session-id",
    "mcp-protocol-version",
    "www-authenticate",
    "retry-after",
    "cache-control",
    "location",
)
USER_AGENT = "satchel-relay"
#: Longer targets (what follows `/relay/`, query included) are refused: no MCP endpoint needs one, and it bounds what
#: is parsed.
MAX_URL_LENGTH = 8192
#: The event a cut-off stream ends with (MCP clients handle `message` events only and ignore others).
CUT_OFF_EVENT = "satchel-relay-error"

MiB = 1024 * 1024


@dataclass(frozen=True)
class RelayLimits:
    """Bounds on what one relayed request may cost; tests pass small ones."""

    #: The request body the relay accepts (413 above it).
    request_body_bytes: int = 4 * MiB
    #: Time to receive that body from the page (408 after it).
    request_body_s: float = 30.0
    #: Time to resolve and connect to the upstream (504 after it).
    connect_s: float = 10.0
    #: Time from the start of the request to the upstream's response headers (504 after it).
    headers_s: float = 30.0
    #: The response body passed back; a longer one is cut off.
    response_body_bytes: int = 32 * MiB
    #: A response (an SSE stream waiting for events) that sends nothing for this long is closed.
    idle_s: float = 300.0


@dataclass(frozen=True)
class RelayConfig:
    """How `satchel serve` relays: which private hosts the operator allowed, the limits, and (for tests or an
    intranet CA) how targets are resolved and their certificates checked."""

    rules: AddressRules = field(default_factory=AddressRules)
    limits: RelayLimits = field(default_factory=RelayLimits)
    resolver: Resolver = system_resolver
    #: Certificate checking for https targets: True for the system's CAs (httpx's default), or an SSL context.
    verify: ssl.SSLContext | bool = True


class RelayError(Exception):
    """A request the relay answers itself, with `status` and `kind`."""

    def __init__(self, status: int, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind

    def response(self) -> Response:
        return JSONResponse({"error": str(self)}, status_code=self.status, headers={ERROR_HEADER: self.kind})


@dataclass(frozen=True)
class Target:
    """Where a relayed request goes: the origin (the only part of it that is ever logged or shown in headers) and the
    request target, the path and query exactly as the page sent them (still percent-encoded)."""

    origin: str
    request_target: bytes


#: `<host>` or `[<IPv6>]`, then an optional `:<port>`; what each part may be is checked after.
_AUTHORITY = re.compile(r"^(?:\[(?P<ipv6>[^\]]*)\]|(?P<name>[^:\[\]]*))(?::(?P<port>.*))?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_target(request: Request) -> Target:
    """The target named by the path `/relay/<scheme>/<host[:port]>/<path>` and the query; RelayError (400) for any
    path not of that form. The path is read as the page sent it (`raw_path`), so its percent-encoding is kept."""
    # An ASGI server that does not give the raw path: its decoded form is the closest there is.
    raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope.get("query_string", b"")
    prefix = f"{RELAY_PATH}/".encode()
    if not raw_path.startswith(prefix):
        raise _invalid(f"the relay's path must begin {RELAY_PATH}/")
    rest = raw_path.removeprefix(prefix)
    if len(rest) + len(query) > MAX_URL_LENGTH:
        raise RelayError(400, "invalid", f"the target is longer than {MAX_URL_LENGTH} characters")
    scheme_bytes, _, after_scheme = rest.partition(b"/")
    authority_bytes, slash, path = after_scheme.partition(b"/")
    scheme = scheme_bytes.decode("latin-1")
    if scheme not in _DEFAULT_PORTS:
        raise _invalid(f"the scheme {scheme!r} is not http or https")
    authority = authority_bytes.decode("latin-1")
    if not authority:
        raise _invalid("no host is named")
    if "@" in authority:
        raise RelayError(
            400, "invalid", "the target carries credentials: send them in the Authorization header instead"
        )
    host, port = _host_and_port(authority)
    if port is not None and not (re.fullmatch(r"[0-9]{1,5}", port) and 0 < int(port) < 65536):
        raise RelayError(400, "invalid", f"the target's port {port!r} is not a TCP port (1-65535)")
    shown_port = "" if port is None or int(port) == _DEFAULT_PORTS[scheme] else f":{int(port)}"
    request_target = b"/" + path if slash else b"/"
    if query:
        request_target += b"?" + query
    return Target(origin=f"{scheme}://{host}{shown_port}", request_target=request_target)


def _host_and_port(authority: str) -> tuple[str, str | None]:
    """The host as an origin writes it (lowercase, an IPv6 address compressed and in brackets) and the port as
    given, if any; RelayError (400) for anything else."""
    parts = _AUTHORITY.match(authority)
    if parts is not None and parts["name"] is not None and is_host(parts["name"]):
        return parts["name"].lower(), parts["port"]
    # A zone (fe80::1%eth0) means something on one machine only.
    if parts is not None and parts["ipv6"] is not None and "%" not in parts["ipv6"]:
        try:
            return f"[{ipaddress.IPv6Address(parts['ipv6']).compressed}]", parts["port"]
        except ValueError:
            pass
    raise _invalid(
        f"the host {authority!r} is not a host name or IP address as browsers write it in an origin "
        "(an international name in its DNS form, xn--...; an IPv6 address in brackets)"
    )


def _invalid(problem: str) -> RelayError:
    return RelayError(
        400,
        "invalid",
        f"{problem}: name the server as {RELAY_PATH}/<http|https>/<host[:port]>/<path>?<query>",
    )


class Relay:
    """The `/relay` endpoint and the connections it keeps to upstream servers."""

    def __init__(self, config: RelayConfig, policy: Callable[[], Policy | None] = lambda: None) -> None:
        self.config = config
        #: The served site's managed policy now: its `servers.origins`, when set, are the only targets.
        self.policy = policy
        self._transport: httpx.AsyncHTTPTransport | None = None

    def route(self) -> Route:
        return Route(
            f"{RELAY_PATH}/{{target:path}}", endpoint=self.handle, methods=list(METHODS), name="relay"
        )

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    def transport(self) -> httpx.AsyncHTTPTransport:
        """One connection pool for every relayed request, made when first needed, closed with the app."""
        if self._transport is None:
            self._transport = guarded_transport(self.config)
        return self._transport

    async def handle(self, request: Request) -> Response:
        try:
            if request.method not in METHODS:  # Starlette routes HEAD to every GET endpoint
                raise RelayError(405, "invalid", f"the relay forwards {', '.join(METHODS)} only")
            if request.headers.get(RELAY_HEADER) != "1":
                raise RelayError(
                    403,
                    "forbidden",
                    f"the relay serves Satchel's own pages only (they send {RELAY_HEADER}: 1)",
                )
            target = parse_target(request)
            self._check_policy(target)
            body = await self._read_body(request)
            return await self._forward(request, target, body)
        except RelayError as exc:
            if exc.kind != "forbidden":
                log.info("relay %s refused (%s): %s", request.method, exc.kind, exc)
            return exc.response()

    def _check_policy(self, target: Target) -> None:
        policy = self.policy()
        origins = None if policy is None else policy.allowed_origins
        if policy is not None and origins is not None and target.origin not in origins:
            raise RelayError(
                403,
                "refused",
                f"{target.origin} is not one of the origins {policy.organization}'s policy allows "
                "(servers.origins)",
            )

    async def _read_body(self, request: Request) -> bytes:
        limit = self.config.limits.request_body_bytes
        too_large = RelayError(413, "too-large", f"the request body is larger than {limit} bytes")
        declared = request.headers.get("content-length")
        if declared is not None and not declared.isdigit():
            raise RelayError(400, "invalid", "the Content-Length header is not a number")
        if declared is not None and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(self.config.limits.request_body_s):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
        except TimeoutError as exc:
            seconds = self.config.limits.request_body_s
            raise RelayError(408, "timeout", f"the request body did not arrive within {seconds:g} s") from exc
        except ClientDisconnect as exc:
            raise RelayError(400, "invalid", "the client went away before sending its request") from exc
        return b"".join(chunks)

    async def _forward(self, request: Request, target: Target, body: bytes) -> Response:
        limits = self.config.limits
        headers = [
            (name, value) for name in FORWARDED_REQUEST_HEADERS for value in request.headers.getlist(name)
        ]
        # Identity: the body is passed on as it arrives and its size checked as the client will see it.
        headers += [("user-agent", USER_AGENT), ("accept-encoding", "identity")]
        upstream_request = httpx.Request(
            request.method,
            target.origin,
            headers=headers,
            content=body,
            extensions={
                # The path and query go as the page sent them: httpx would normalise them.
                "target": target.request_target,
                "timeout": httpx.Timeout(
                    connect=limits.connect_s,
                    read=limits.idle_s,
                    write=limits.headers_s,
                    pool=limits.headers_s,
                ).as_dict(),
            },
        )
        try:
            with anyio.fail_after(limits.headers_s):
                upstream = await self.transport().handle_async_request(upstream_request)
        except AddressRefused as exc:
            raise RelayError(403, "refused", str(exc)) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise RelayError(
                504, "timeout", f"{target.origin} did not answer within {limits.headers_s:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise RelayError(502, "unreachable", f"{target.origin} cannot be reached: {exc}") from exc
        upstream.request = upstream_request
        log.info("relay %s %s: %d", request.method, target.origin, upstream.status_code)
        return RelayedResponse(upstream, target.origin, limits)


def guarded_transport(config: RelayConfig) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go only where `config.rules` allow (see satchel/relay_guard.py).

    httpx 0.28 has no parameter for httpcore's network backend, so the transport's pool is replaced by one that
    uses the guarded backend; the transport keeps mapping httpcore's errors to httpx's. No environment proxy
    applies: a proxy would make the connection, and the check, somewhere else.
    """
    transport = httpx.AsyncHTTPTransport(verify=config.verify, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=config.verify, trust_env=False),
        network_backend=GuardedNetworkBackend(config.rules, config.resolver),
    )
    return transport


class RelayedResponse(Response):
    """The upstream's answer passed on as it arrives, with only the allowed headers.

    A response that grows past the limit, sends nothing for `idle_s`, or breaks off is cut: an SSE stream first gets
    a `satchel-relay-error` event saying why, then the connection is dropped without the end of the body, so the
    client sees a broken response rather than one that looks complete. A client that goes away closes the upstream
    request at once, even while the upstream sends nothing.
    """

    def __init__(self, upstream: httpx.Response, origin: str, limits: RelayLimits) -> None:
        self.upstream = upstream
        self.origin = origin
        self.limits = limits
        self.status_code = upstream.status_code
        self.background = None
        self.raw_headers = [
            (name.encode(), value.encode())
            for name in RETURNED_RESPONSE_HEADERS
            for value in upstream.headers.get_list(name)
        ]
        self.raw_headers.append((TARGET_HEADER.lower().encode(), origin.encode()))
        content_type = upstream.headers.get("content-type", "")
        self.event_stream = content_type.split(";")[0].strip().lower() == "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def cancel_on_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(cancel_on_disconnect)
                await self._relay(send)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()

    async def _relay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        sent = 0
        limit = self.limits.response_body_bytes
        try:
            async for chunk in self.upstream.aiter_bytes():
                sent += len(chunk)
                if sent > limit:
                    await self._cut_off(send, "too-large", f"the response is larger than {limit} bytes")
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.ReadTimeout:
            await self._cut_off(send, "timeout", f"{self.origin} sent nothing for {self.limits.idle_s:g} s")
            return
        except httpx.HTTPError as exc:
            await self._cut_off(send, "unreachable", f"the connection to {self.origin} broke: {exc}")
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _cut_off(self, send: Send, kind: ErrorKind, reason: str) -> None:
        log.warning("relay from %s cut off: %s", self.origin, reason)
        if self.event_stream:
            data = json.dumps({"error": reason, "kind": kind})
            # The leading newline ends a line the upstream left unfinished, so the event stands on its own lines.
            event = f"\nevent: {CUT_OFF_EVENT}\ndata: {data}\n\n".encode()
            await send({"type": "http.response.body", "body": event, "more_body": True})
        # Returning without the body's end makes the server drop the connection.
