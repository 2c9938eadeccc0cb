"""A real OAuth-protected remote MCP server for the end-to-end tests of Satchel's sign-in, built on the Python MCP
SDK's own authorization server and resource server (`MCPServer(auth=..., auth_server_provider=...)`), not a mock.

The browser app signs in to remote MCP servers as the MCP authorization spec (2025-11-25) says: on a 401 it reads
`WWW-Authenticate`, discovers the protected resource metadata (RFC 9728) and the authorization server metadata
(RFC 8414), registers itself (RFC 7591), runs the authorization code flow with PKCE S256 and a `resource`
(RFC 8707), and refreshes its tokens. This module is the other side, one process on its own port (another origin
than the app's), run as::

    python -m tests.support.oauth_mcp_server --port 8471 --state-file /tmp/oauth-state.json

It serves, at its origin `http://127.0.0.1:PORT`:

- `/mcp`: Streamable HTTP (stateless, JSON responses) with the tools `save_note` (idempotent on the request's
  `_meta["io.satchel/idempotency-key"]`, counting every delivery) and `list_notes`; bearer tokens must carry the
  scope `notes` and have been issued for exactly this `/mcp` URL;
- the SDK's `/.well-known/oauth-protected-resource/mcp`, `/.well-known/oauth-authorization-server`, `/authorize`,
  `/token` and `/register`, over the in-memory `NotesAuthProvider` below (codes bound to their PKCE challenge,
  access tokens to their resource and an expiry, refresh tokens rotated on use);
- `/consent`: the page `/authorize` sends the user to, with real **Approve** and **Deny** form buttons (no script);
- test controls, without auth: `POST /test/expire-tokens` (every access token expires now, so the next MCP request
  gets a 401 and the client must refresh) and `GET /test/state` (notes, deliveries per key, and what clients sent to
  `/authorize` and `/token`, as the client sent it).

CORS is what a public MCP server sends: the SDK's own on its OAuth endpoints, and `Access-Control-Allow-Origin: *`
on `/mcp` and the protected resource metadata. `--no-cors` sends no CORS header anywhere, so a browser cannot reach
the server directly and the app must use its relay; `--no-auth` makes it a public server that asks for no sign-in
(the reliability tests' counting servers). With `--state-file` every change is written to that file and read back
at start, so a test may stop the server (the network is gone) and start it again on the same port with its
clients, tokens and notes. `OAuthMcpServer` runs it for a test.
"""

from __future__ import annotations

import argparse
import html
import os
import secrets
import signal
import subprocess
import sys
import time
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp_types import ToolAnnotations
from pydantic import AnyHttpUrl, BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.ports import free_port, stop_process, wait_until_listening

REPO = Path(__file__).resolve().parents[2]

IDEMPOTENCY_META_KEY = "io.satchel/idempotency-key"
MCP_PATH = "/mcp"
#: The scope every MCP request needs, and the scopes a client may ask for.
REQUIRED_SCOPE = "notes"
SCOPES = ["notes", "notes:write"]
DEFAULT_TOKEN_LIFETIME_S = 3600
#: How long an authorization code stays valid (RFC 6749 §4.1.2 recommends 10 minutes at most).
CODE_LIFETIME_S = 300

#: What a browser may send to and read from `/mcp` across origins (the Streamable HTTP transport's headers).
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Mcp-Protocol-Version",
    "Mcp-Session-Id",
    "Last-Event-Id",
]
CORS_EXPOSE_HEADERS = ["Mcp-Session-Id", "WWW-Authenticate"]
CORS_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]


class NoteRecord(BaseModel):
    title: str
    body: str
    key: str | None


class AuthorizationRequestRecord(BaseModel):
    """An `/authorize` request's parameters as the client sent them (None where it sent none)."""

    client_id: str | None
    scope: str | None
    resource: str | None
    code_challenge_method: str | None


class TokenRequestRecord(BaseModel):
    """A `/token` request's parameters as the client sent them (None where it sent none)."""

    grant_type: str | None
    resource: str | None
    scope: str | None
    client_id: str | None


class PendingConsent(BaseModel):
    """An authorization request waiting on the consent page's answer."""

    client_id: str
    params: AuthorizationParams


class ServerState(BaseModel):
    """Everything the server knows; written whole to the state file after each change."""

    clients: dict[str, OAuthClientInformationFull] = {}
    consents: dict[str, PendingConsent] = {}
    codes: dict[str, AuthorizationCode] = {}
    access_tokens: dict[str, AccessToken] = {}
    refresh_tokens: dict[str, RefreshToken] = {}
    notes: list[NoteRecord] = []
    deliveries: dict[str, int] = {}
    authorization_requests: list[AuthorizationRequestRecord] = []
    token_requests: list[TokenRequestRecord] = []
    registrations: int = 0

    def report(self) -> dict[str, Any]:
        """What `GET /test/state` answers: what a test asserts on, no secrets."""
        return self.model_dump(
            mode="json",
            include={"notes", "deliveries", "authorization_requests", "token_requests", "registrations"},
        )


class StateStore:
    """The server's state, in memory and, with a path, in a JSON file that a restart reads back."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.state = (
            ServerState.model_validate_json(path.read_text())
            if path is not None and path.exists()
            else ServerState()
        )

    def save(self) -> None:
        if self.path is None:
            return
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(self.state.model_dump_json())
        partial.replace(self.path)


#: The `resource` of the `/token` request being handled: the SDK does not pass it on to the provider.
requested_resource: ContextVar[str | None] = ContextVar("requested_resource", default=None)


class NotesAuthProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """The authorization server's decisions, over a `StateStore`: `authorize` sends the user to the consent page,
    whose answer (`approve`) issues the code; tokens are bound to the resource they were issued for."""

    def __init__(self, store: StateStore, origin: str, token_lifetime_s: int) -> None:
        self.store = store
        self.origin = origin
        self.token_lifetime_s = token_lifetime_s

    @property
    def state(self) -> ServerState:
        return self.store.state

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.state.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.state.clients[client_info.client_id] = client_info
        self.state.registrations += 1
        self.store.save()

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        request_id = secrets.token_urlsafe(16)
        self.state.consents[request_id] = PendingConsent(client_id=client.client_id, params=params)
        self.store.save()
        return f"{self.origin}/consent?request={request_id}"

    def approve(self, request_id: str) -> str | None:
        """The redirect back to the client with a fresh code and the request's state; None if no such request."""
        consent = self.state.consents.pop(request_id, None)
        if consent is None:
            return None
        params = consent.params
        code = AuthorizationCode(
            code=secrets.token_urlsafe(32),
            scopes=params.scopes or [REQUIRED_SCOPE],
            expires_at=time.time() + CODE_LIFETIME_S,
            client_id=consent.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        self.state.codes[code.code] = code
        self.store.save()
        return construct_redirect_uri(str(params.redirect_uri), code=code.code, state=params.state)

    def deny(self, request_id: str) -> str | None:
        """The redirect back to the client with `access_denied`; None if no such request."""
        consent = self.state.consents.pop(request_id, None)
        if consent is None:
            return None
        self.store.save()
        return construct_redirect_uri(
            str(consent.params.redirect_uri),
            error="access_denied",
            error_description="The user denied the request",
            state=consent.params.state,
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        code = self.state.codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        resource = self._resource_for(authorization_code.resource)
        del self.state.codes[authorization_code.code]  # a code is used once
        return self._issue(authorization_code.client_id, authorization_code.scopes, resource)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        token = self.state.refresh_tokens.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        resource = self._resource_for(refresh_token.resource)
        self._revoke_refresh_token(refresh_token.token)  # rotation: a refresh token is used once
        return self._issue(refresh_token.client_id, scopes, resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        return self.state.access_tokens.get(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        if isinstance(token, RefreshToken):
            self._revoke_refresh_token(token.token)
        else:
            self.state.access_tokens.pop(token.token, None)
        self.store.save()

    def expire_access_tokens(self) -> int:
        """Make every access token expired as of now (refresh tokens stay valid); returns how many."""
        expired_at = int(time.time()) - 1
        for token in self.state.access_tokens.values():
            token.expires_at = expired_at
        self.store.save()
        return len(self.state.access_tokens)

    def _resource_for(self, granted: str | None) -> str | None:
        """The resource a token is issued for: the one authorized, which a `/token` request naming a `resource`
        must repeat (RFC 8707 §2.2); the requested one where none was authorized."""
        requested = requested_resource.get()
        if granted is not None and requested is not None and requested != granted:
            raise TokenError("invalid_target", f"the grant is for {granted}, not {requested}")
        return granted if granted is not None else requested

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access = AccessToken(
            token=secrets.token_urlsafe(32),
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + self.token_lifetime_s,
            resource=resource,
        )
        refresh = RefreshToken(
            token=secrets.token_urlsafe(32), client_id=client_id, scopes=scopes, resource=resource
        )
        self.state.access_tokens[access.token] = access
        self.state.refresh_tokens[refresh.token] = refresh
        self.store.save()
        return OAuthToken(
            access_token=access.token,
            expires_in=self.token_lifetime_s,
            scope=" ".join(scopes),
            refresh_token=refresh.token,
        )

    def _revoke_refresh_token(self, token: str) -> None:
        self.state.refresh_tokens.pop(token, None)
        self.store.save()


class SavedNote(BaseModel):
    note: NoteRecord
    created: bool = Field(description="False when an earlier call with this idempotency key saved the note")


class NoteList(BaseModel):
    notes: list[NoteRecord]


def build_mcp_server(provider: NotesAuthProvider, origin: str, *, auth: bool = True) -> MCPServer:
    """The MCP server with its tools, its OAuth settings (unless `auth` is false: a public server that needs no
    sign-in) and the consent and test routes."""
    state, store = provider.state, provider.store
    # Validated from strings, so the issuer keeps its exact form (no trailing slash), as RFC 8414 compares it.
    settings = AuthSettings.model_validate(
        {
            "issuer_url": origin,
            "resource_server_url": f"{origin}{MCP_PATH}",
            "required_scopes": [REQUIRED_SCOPE],
            "client_registration_options": ClientRegistrationOptions(
                enabled=True, valid_scopes=SCOPES, default_scopes=SCOPES
            ),
            "validate_token_resource": True,
        }
    )
    server: MCPServer = MCPServer(
        name="oauth-notes",
        title="OAuth-protected notes (Satchel test server)" if auth else "Public notes (Satchel test server)",
        version="1.0.0",
        auth_server_provider=provider if auth else None,
        auth=settings if auth else None,
    )

    @server.tool(
        annotations=ToolAnnotations(
            title="Save a note", read_only_hint=False, destructive_hint=False, idempotent_hint=True
        )
    )
    async def save_note(title: str, body: str, ctx: Context) -> SavedNote:
        """Save a note; a call repeating an earlier call's idempotency key saves nothing new."""
        # Async, so it runs on the event loop (the SDK runs a plain function in a worker thread): with no await
        # below, concurrent deliveries of one key cannot interleave, and exactly-once holds under replays.
        key = (ctx.request_context.meta or {}).get(IDEMPOTENCY_META_KEY)
        if key is not None and not isinstance(key, str):
            raise ToolError(f"_meta {IDEMPOTENCY_META_KEY!r} must be a string")
        if key is not None:
            state.deliveries[key] = state.deliveries.get(key, 0) + 1
        earlier = next((note for note in state.notes if key is not None and note.key == key), None)
        note = earlier or NoteRecord(title=title, body=body, key=key)
        if earlier is None:
            state.notes.append(note)
        store.save()
        return SavedNote(note=note, created=earlier is None)

    @server.tool(annotations=ToolAnnotations(title="List notes", read_only_hint=True))
    async def list_notes() -> NoteList:
        """List the saved notes, oldest first."""
        return NoteList(notes=state.notes)

    async def consent_page(request: Request) -> Response:
        request_id = request.query_params.get("request", "")
        consent = state.consents.get(request_id)
        if consent is None:
            return HTMLResponse("<!doctype html><title>Unknown request</title><p>Unknown request", 404)
        client = state.clients[consent.client_id]
        return HTMLResponse(
            consent_html(request_id, client.client_name or client.client_id, consent.params),
            headers={
                "Cache-Control": "no-store",
                # No form-action: Chromium applies it to the redirect after the POST, which goes to the client.
                "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            },
        )

    async def consent_answer(request: Request) -> Response:
        form = await request.form()
        request_id, decision = str(form.get("request", "")), form.get("decision")
        redirect = provider.approve(request_id) if decision == "approve" else provider.deny(request_id)
        if redirect is None:
            return HTMLResponse("<!doctype html><title>Unknown request</title><p>Unknown request", 404)
        return RedirectResponse(redirect, status_code=302, headers={"Cache-Control": "no-store"})

    async def expire_tokens(request: Request) -> Response:
        return JSONResponse({"expired": provider.expire_access_tokens()})

    async def report_state(request: Request) -> Response:
        return JSONResponse(state.report())

    # Outside /mcp, so without auth (`custom_route`, called, not as a decorator: its return type is not declared).
    for path, method, endpoint in [
        ("/consent", "GET", consent_page),
        ("/consent", "POST", consent_answer),
        ("/test/expire-tokens", "POST", expire_tokens),
        ("/test/state", "GET", report_state),
    ]:
        server.custom_route(path, methods=[method])(endpoint)
    return server


def consent_html(request_id: str, client_name: str, params: AuthorizationParams) -> str:
    """The consent page: who asks, for which scopes and resource, and a form with Approve and Deny buttons."""
    scopes = "".join(f"<li>{html.escape(scope)}</li>" for scope in params.scopes or [REQUIRED_SCOPE])
    resource = html.escape(params.resource or "(none named)")
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Authorize {html.escape(client_name)}</title></head>
<body>
<h1>Authorize <span id="client-name">{html.escape(client_name)}</span></h1>
<p>It asks for these scopes on <span id="resource">{resource}</span>:</p>
<ul id="scopes">{scopes}</ul>
<form method="post" action="/consent">
<input type="hidden" name="request" value="{html.escape(request_id)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body>
</html>
"""


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body", False):
            return body


class RequestRecorder:
    """Records `/authorize` and `/token` parameters as the client sent them (the SDK fills in defaults, such as
    S256, before the provider sees a request), and passes the `/token` request's `resource` to the provider."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope.get("path"), scope.get("method")
        if scope["type"] != "http" or (path, method) not in {
            ("/authorize", "GET"),
            ("/authorize", "POST"),
            ("/token", "POST"),
        }:
            await self.app(scope, receive, send)
            return
        if method == "GET":
            body = b""
            raw = scope["query_string"].decode("latin-1")
        else:
            body = await _read_body(receive)
            raw = body.decode("utf-8", "replace")
        params = dict(parse_qsl(raw))
        fields = {
            "client_id": params.get("client_id"),
            "scope": params.get("scope"),
            "resource": params.get("resource"),
        }
        if path == "/authorize":
            method_sent = params.get("code_challenge_method")
            self.state.authorization_requests.append(
                AuthorizationRequestRecord(**fields, code_challenge_method=method_sent)
            )
        else:
            self.state.token_requests.append(
                TokenRequestRecord(**fields, grant_type=params.get("grant_type"))
            )
            requested_resource.set(params.get("resource"))
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then whatever the connection sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class CorsPolicy:
    """CORS as a public MCP server sends it: `*` on `/mcp` and its protected resource metadata (the SDK already
    answers for its OAuth endpoints); or, disabled, no CORS header on any response."""

    def __init__(self, app: ASGIApp, *, enabled: bool, paths: set[str]) -> None:
        self.app = app
        self.enabled = enabled
        self.paths = paths
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=CORS_METHODS,
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif self.enabled:
            await (self.cors if scope["path"] in self.paths else self.app)(scope, receive, send)
        else:
            await self.app(scope, receive, _without_cors_headers(send))


def _without_cors_headers(send: Send) -> Send:
    async def send_without(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    (k, v) for k, v in message["headers"] if not k.lower().startswith(b"access-control-")
                ],
            }
        await send(message)

    return send_without


def create_app(
    port: int,
    *,
    host: str = "127.0.0.1",
    state_file: Path | None = None,
    token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S,
    cors: bool = True,
    auth: bool = True,
) -> ASGIApp:
    """The whole server as one ASGI app, for `uvicorn` on `host:port` (its origin is its issuer)."""
    origin = f"http://{host}:{port}"
    provider = NotesAuthProvider(StateStore(state_file), origin, token_lifetime_s)
    server = build_mcp_server(provider, origin, auth=auth)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{host}:{port}", f"127.0.0.1:{port}", f"localhost:{port}"],
        allowed_origins=[
            f"{scheme}://{name}:*" for scheme in ("http", "https") for name in ("127.0.0.1", "localhost")
        ],
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=True, json_response=True, transport_security=security
    )
    metadata_path = build_resource_metadata_url(AnyHttpUrl(f"{origin}{MCP_PATH}")).path
    assert metadata_path is not None
    return CorsPolicy(RequestRecorder(app, provider.state), enabled=cors, paths={MCP_PATH, metadata_path})


class OAuthMcpServer:
    """The server in its own process on a free port, for a test: `start()`, then `.url` (its origin, the issuer),
    `.mcp_url`, `.state()` and `.expire_tokens()`; `stop()` ends it, and `start()` again resumes on the same port
    with the same state. Also a context manager (started on entry, stopped on exit)."""

    def __init__(
        self,
        folder: Path,
        *,
        cors: bool = True,
        token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S,
        auth: bool = True,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mcp_url = f"{self.url}{MCP_PATH}"
        self.state_file = folder / f"oauth-mcp-{self.port}.json"
        self.log_path = folder / f"oauth-mcp-{self.port}.log"
        self.cors = cors
        self.token_lifetime_s = token_lifetime_s
        self.auth = auth
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._proc is None, "server already running"
        log = self.log_path.open("ab")
        args = ["--port", str(self.port), "--state-file", str(self.state_file)]
        args += ["--token-lifetime", str(self.token_lifetime_s), *([] if self.cors else ["--no-cors"])]
        args += [] if self.auth else ["--no-auth"]
        pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.oauth_mcp_server", *args],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        wait_until_listening(self._proc, self.port, "the OAuth MCP server", self.log_path)

    def stop(self) -> None:
        if self._proc is None:
            return
        stop_process(self._proc, signal.SIGINT)
        self._proc = None

    def state(self) -> dict[str, Any]:
        """`GET /test/state`: notes, deliveries per idempotency key, authorization and token requests, registrations."""
        response = httpx.get(f"{self.url}/test/state", timeout=10)
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    def expire_tokens(self) -> int:
        """`POST /test/expire-tokens`: every access token issued so far is expired from now on; returns how many."""
        response = httpx.post(f"{self.url}/test/expire-tokens", timeout=10)
        response.raise_for_status()
        expired: int = response.json()["expired"]
        return expired

    def __enter__(self) -> OAuthMcpServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.oauth_mcp_server",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-file", type=Path, help="keep the state in this file across restarts")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME_S, help="seconds")
    parser.add_argument("--no-cors", action="store_true", help="send no CORS headers at all")
    parser.add_argument("--no-auth", action="store_true", help="a public server: no sign-in needed")
    options = parser.parse_args(argv)
    app = create_app(
        options.port,
        host=options.host,
        state_file=options.state_file,
        token_lifetime_s=options.token_lifetime,
        cors=not options.no_cors,
        auth=not options.no_auth,
    )
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
