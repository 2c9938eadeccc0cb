"""The workspace: Satchel's remote MCP server, where notes made in the browser (online or queued offline) land.

Built on the Python SDK's `MCPServer` and served over Streamable HTTP inside the dev server's Starlette app, with
the SDK's OAuth support: users sign in through the workspace's own authorization server (satchel/workspace/
authorization.py, sign_in.py) and every request carries a bearer token issued for exactly the workspace's URL; each
user sees only their own notes. Only an operator's explicit choice on loopback makes it anonymous (all notes then
belong to the built-in local user). Route every path of `Workspace.routes` (exact `Route`s, not a `Mount`: a
Starlette `Mount("/mcp/workspace")` only matches `/mcp/workspace/...`) and run its lifespan in the outer app's::

    workspace = create_workspace(db_path, allowed_hosts=["127.0.0.1:8470"], public_url="http://127.0.0.1:8470")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with workspace.lifespan():
            yield

    app = Starlette(routes=[*workspace.routes, ...], lifespan=lifespan)

By default it runs stateless with JSON responses: no session survives a restart anyway, and a queued call that
the service worker replays reads back as one JSON body. Both protocol eras work: the `initialize` handshake
(2025-11-25, the TypeScript SDK) and `server/discover` with per-request `_meta` (2026-07-28, the Python SDK 2.x).
Requests whose Host (421) or Origin (403) is not allowed are refused, against DNS rebinding; a `tools/call` the
site's managed policy denies is refused with a JSON-RPC error (`policy_gate`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.routes import TOKEN_PATH
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from satchel import __version__
from satchel.policy import Policy
from satchel.tools.jsonrpc import DENIED_BY_POLICY, INTERNAL_ERROR
from satchel.workspace.accounts import AccountStore
from satchel.workspace.accounts_schema import LOCAL_USER_ID
from satchel.workspace.authorization import TokenResourceCheck, WorkspaceAuthProvider, auth_settings
from satchel.workspace.grants import GrantStore
from satchel.workspace.notes import (
    MAX_BODY,
    MAX_KEY,
    MAX_QUERY,
    MAX_QUERY_WORDS,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    Note,
    NoteError,
    NoteStore,
    SearchHit,
)
from satchel.workspace.sign_in import sign_in_routes

IDEMPOTENCY_META_KEY = "io.satchel/idempotency-key"
WORKSPACE_NAME = "io.satchel/workspace"
DEFAULT_PATH = "/mcp/workspace"
MAX_PAGE = 100


class NoteOut(BaseModel):
    """A saved note."""

    id: int
    title: str
    body: str
    tags: list[str]
    created_at: str = Field(description="When it was saved, RFC 3339 UTC")

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id, title=note.title, body=note.body, tags=list(note.tags), created_at=note.created_at
        )


class SaveResult(BaseModel):
    note: NoteOut
    created: bool = Field(
        description="False when this key (or this exact content) had already saved the note"
    )


class NotePage(BaseModel):
    notes: list[NoteOut] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class SearchHitOut(BaseModel):
    note: NoteOut
    title_highlighted: str = Field(description="The title with matches between « and »")
    snippet: str = Field(description="The best part of the body, matches between « and »")

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(note=NoteOut.of(hit.note), title_highlighted=hit.title_highlighted, snippet=hit.snippet)


class SearchResult(BaseModel):
    hits: list[SearchHitOut] = Field(description="Best match first")


class DeleteResult(BaseModel):
    id: int
    deleted: bool = Field(description="False when there was no note with this id (already deleted)")


Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="Short title")]
Body = Annotated[str, Field(max_length=MAX_BODY, description="The note itself (plain text or Markdown)")]
Tags = Annotated[
    list[Annotated[str, Field(max_length=MAX_TAG)]] | None,
    Field(max_length=MAX_TAGS, description="Labels to find the note by"),
]
Key = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_KEY,
        description=f"Idempotency key (may instead come in _meta as {IDEMPOTENCY_META_KEY!r}): "
        "saving again with the same key returns the same note",
    ),
]
Limit = Annotated[int, Field(ge=1, le=MAX_PAGE, description="How many at most")]


def build_server(
    store: NoteStore,
    *,
    user_of_request: Callable[[], int],
    policy: Callable[[], Policy | None] = lambda: None,
    auth_server_provider: WorkspaceAuthProvider | None = None,
    auth: AuthSettings | None = None,
) -> MCPServer:
    """The MCP server exposing `store` as the tools save_note, list_notes, search_notes and delete_note, each on
    the notes of the user `user_of_request()` names, and refusing the tools calls `policy()` denies."""
    server: MCPServer = MCPServer(
        name="satchel-workspace",
        title="Satchel workspace",
        version=__version__,
        instructions="Notes synced from Satchel. Saving is idempotent on a key; deleting cannot be undone.",
        auth_server_provider=auth_server_provider,
        auth=auth,
        middleware=[policy_gate(policy)],
    )

    @server.tool(
        annotations=ToolAnnotations(
            title="Save a note",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        )
    )
    def save_note(title: Title, body: Body, ctx: Context, tags: Tags = None, key: Key = None) -> SaveResult:
        """Save a note. Calling again with the same idempotency key (or the same content) saves nothing new."""
        try:
            note, created = store.save(
                title, body, tags or (), _idempotency_key(key, ctx), user=user_of_request()
            )
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        return SaveResult(note=NoteOut.of(note), created=created)

    @server.tool(annotations=ToolAnnotations(title="List notes", read_only_hint=True, open_world_hint=False))
    def list_notes(limit: Limit = 20, cursor: str | None = None) -> NotePage:
        """List notes, newest first, a page at a time."""
        try:
            notes, next_cursor = store.page(limit, cursor, user=user_of_request())
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        return NotePage(notes=[NoteOut.of(n) for n in notes], next_cursor=next_cursor)

    @server.tool(
        annotations=ToolAnnotations(title="Search notes", read_only_hint=True, open_world_hint=False)
    )
    def search_notes(
        query: Annotated[
            str,
            Field(
                max_length=MAX_QUERY,
                description=f"Words to find (all of them; the last may be a prefix): at most {MAX_QUERY_WORDS} "
                f"words, {MAX_QUERY} characters",
            ),
        ],
        limit: Limit = 20,
    ) -> SearchResult:
        """Full-text search over titles, bodies and tags. Any text is safe: it is searched for, not parsed."""
        try:
            hits = store.search(query, limit, user=user_of_request())
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        return SearchResult(hits=[SearchHitOut.of(hit) for hit in hits])

    @server.tool(
        annotations=ToolAnnotations(
            title="Delete a note",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        )
    )
    def delete_note(note_id: Annotated[int, Field(ge=1, description="The id of the note")]) -> DeleteResult:
        """Delete a note for good."""
        return DeleteResult(id=note_id, deleted=store.delete(note_id, user=user_of_request()))

    return server


def _idempotency_key(argument: str | None, ctx: Context) -> str | None:
    """The key given as an argument and/or in the request `_meta`; refused when the two disagree."""
    meta: dict[str, Any] = dict(ctx.request_context.meta or {})
    from_meta = meta.get(IDEMPOTENCY_META_KEY)
    if from_meta is not None and not isinstance(from_meta, str):
        raise ToolError(f"_meta {IDEMPOTENCY_META_KEY!r} must be a string")
    if argument is not None and from_meta is not None and argument != from_meta:
        raise ToolError(f"the key argument and _meta {IDEMPOTENCY_META_KEY!r} differ; send one key")
    return argument if argument is not None else from_meta


def policy_gate(policy: Callable[[], Policy | None]) -> ServerMiddleware[Any]:
    """Refuse, with JSON-RPC error DENIED_BY_POLICY, a `tools/call` that the site's managed policy denies: the
    workspace missing from `servers.allow`, or the tool listed in `tools.deny` (the same rules the app's router
    applies, enforced here for clients that do not go through it)."""

    async def gate(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.request_id is not None:
            rules = policy()
            tool = (ctx.params or {}).get("name")
            if rules is not None and isinstance(tool, str):
                if rules.allowed_servers is not None and WORKSPACE_NAME not in rules.allowed_servers:
                    raise MCPError(
                        DENIED_BY_POLICY,
                        f"{rules.organization}'s policy does not allow the server {WORKSPACE_NAME}",
                    )
                if f"{WORKSPACE_NAME}:{tool}" in rules.denied_tools:
                    raise MCPError(
                        DENIED_BY_POLICY, f"{rules.organization}'s policy does not allow the tool {tool}"
                    )
        return await call_next(ctx)

    return gate


def allowed_origins_for(hosts: Sequence[str]) -> list[str]:
    """The browser origins matching each allowed Host value (`127.0.0.1:*` allows any port, as for Host)."""
    return [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]


@dataclass
class Workspace:
    """The workspace server, ready to be routed to: see the module docstring for how to mount it."""

    server: MCPServer
    store: NoteStore
    routes: list[BaseRoute]
    #: The users and grants of a workspace that signs users in (None when it is anonymous).
    accounts: AccountStore | None = None
    grants: GrantStore | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the session manager while the app serves; close the databases after. Once per Workspace."""
        try:
            async with self.server.session_manager.run():
                yield
        finally:
            self.store.close()
            for store in (self.accounts, self.grants):
                if store is not None:
                    store.close()


def create_workspace(
    db_path: Path,
    *,
    allowed_hosts: Sequence[str],
    public_url: str | None = None,
    anonymous: bool = False,
    policy: Callable[[], Policy | None] = lambda: None,
    allowed_origins: Sequence[str] | None = None,
    stateless: bool = True,
    json_response: bool = True,
) -> Workspace:
    """The workspace over the notes in `db_path` (created if missing), answering only the given Host values.

    With `public_url` (the site's origin as devices reach it: the issuer; the endpoint is `public_url` +
    DEFAULT_PATH), users sign in through its authorization server and each sees only their own notes. With
    `anonymous` instead, anyone who reaches it uses the notes of the built-in local user: the caller makes sure
    that is only ever on loopback (satchel/server.py). `policy` gives the managed policy in force, whose server
    and tool rules the workspace enforces itself.

    `allowed_hosts` are Host header values such as `127.0.0.1:8470` or `127.0.0.1:*` (any port);
    `allowed_origins` default to the http and https origins of those hosts.
    """
    if anonymous == (public_url is not None):
        raise ValueError(
            "a workspace is either anonymous or signs users in at a public URL, not both or neither"
        )
    store = NoteStore(db_path)
    accounts = grants = None
    if public_url is not None:
        issuer = public_url.rstrip("/")
        settings = auth_settings(issuer, issuer + DEFAULT_PATH)
        accounts, grants = AccountStore(db_path), GrantStore(db_path)
        provider = WorkspaceAuthProvider(grants, issuer_url=issuer, resource_url=issuer + DEFAULT_PATH)
        server = build_server(
            store, user_of_request=signed_in_user, policy=policy, auth_server_provider=provider, auth=settings
        )
    else:
        server = build_server(store, user_of_request=lambda: LOCAL_USER_ID, policy=policy)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(allowed_hosts),
        allowed_origins=list(allowed_origins)
        if allowed_origins is not None
        else allowed_origins_for(allowed_hosts),
    )
    # The SDK's app holds the MCP endpoint (behind the bearer middleware when users sign in), the protected resource
    # metadata and the authorization server's endpoints. Each of its paths is routed to it by an exact `Route`; its
    # lifespan is not run: `Workspace.lifespan` runs the session manager it created.
    app = server.streamable_http_app(
        streamable_http_path=DEFAULT_PATH,
        stateless_http=stateless,
        json_response=json_response,
        transport_security=security,
    )
    routes: list[Route] = [Route(path, app) for path in _paths_of(app) if path != TOKEN_PATH]
    if accounts is not None and grants is not None and public_url is not None:
        issuer = public_url.rstrip("/")
        routes.append(Route(TOKEN_PATH, TokenResourceCheck(app, issuer + DEFAULT_PATH)))
        routes += sign_in_routes(accounts, grants, issuer_url=issuer)
    # The MCP endpoint checks Host and Origin itself; the authorization server's endpoints and the sign-in page get
    # the same Host check (their CORS endpoints are meant for other origins, so not the Origin one).
    checked: list[BaseRoute] = [
        Route(route.path, HostCheck(route.app, allowed_hosts), methods=route.methods) for route in routes
    ]
    return Workspace(server=server, store=store, routes=checked, accounts=accounts, grants=grants)


class HostCheck:
    """421 for a request whose Host is not one of `allowed_hosts` (`name:port`, or `name:*` for any port): against
    DNS rebinding, a page of another site whose name now points at this server."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.exact = frozenset(host for host in allowed_hosts if not host.endswith(":*"))
        self.any_port = tuple(host[:-1] for host in allowed_hosts if host.endswith(":*"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            if host not in self.exact and not (
                host.startswith(self.any_port) and host.rpartition(":")[2].isdigit()
            ):
                await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def signed_in_user() -> int:
    """The user whose access token the current request carries (the bearer middleware let only such requests in)."""
    token = get_access_token()
    if token is None or token.subject is None:
        raise MCPError(INTERNAL_ERROR, "this request carries no signed-in user")
    return int(token.subject)


def _paths_of(app: Starlette) -> list[str]:
    return list(dict.fromkeys(route.path for route in app.routes if isinstance(route, Route)))
