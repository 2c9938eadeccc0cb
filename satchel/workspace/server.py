"""The workspace: Satchel's remote MCP server, where notes made in the browser (online or queued offline) land.

Built on the Python SDK's `MCPServer` and served over Streamable HTTP inside the dev server's Starlette app.
Mount it with the `Route` from `Workspace.route()`, not a `Mount`: a Starlette `Mount("/mcp/workspace")` only
matches `/mcp/workspace/...`, so the bare endpoint URL would get a 307 to the slash form, while a `Route` serves
exactly `/mcp/workspace`. The session manager must run in the outer app's lifespan::

    workspace = create_workspace(db_path, allowed_hosts=["127.0.0.1:8470", "localhost:8470"])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with workspace.lifespan():
            yield

    app = Starlette(routes=[workspace.route("/mcp/workspace"), ...], lifespan=lifespan)

By default it runs stateless with JSON responses: no session survives a restart anyway, and a queued call that
the service worker replays reads back as one JSON body. Both protocol eras work: the `initialize` handshake
(2025-11-25, the TypeScript SDK) and `server/discover` with per-request `_meta` (2026-07-28, the Python SDK 2.x).
Requests whose Host (421) or Origin (403) is not allowed are refused, against DNS rebinding.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field
from starlette.routing import Route
from starlette.types import ASGIApp

from satchel import __version__
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

IDEMPOTENCY_META_KEY = "io.satchel/idempotency-key"
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


def build_server(store: NoteStore) -> MCPServer:
    """The MCP server exposing `store` as the tools save_note, list_notes, search_notes and delete_note."""
    server: MCPServer = MCPServer(
        name="satchel-workspace",
        title="Satchel workspace",
        version=__version__,
        instructions="Notes synced from Satchel. Saving is idempotent on a key; deleting cannot be undone.",
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
            note, created = store.save(title, body, tags or (), _idempotency_key(key, ctx))
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        return SaveResult(note=NoteOut.of(note), created=created)

    @server.tool(annotations=ToolAnnotations(title="List notes", read_only_hint=True, open_world_hint=False))
    def list_notes(limit: Limit = 20, cursor: str | None = None) -> NotePage:
        """List notes, newest first, a page at a time."""
        try:
            notes, next_cursor = store.page(limit, cursor)
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
            hits = store.search(query, limit)
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
        return DeleteResult(id=note_id, deleted=store.delete(note_id))

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


def allowed_origins_for(hosts: Sequence[str]) -> list[str]:
    """The browser origins matching each allowed Host value (`127.0.0.1:*` allows any port, as for Host)."""
    return [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]


@dataclass
class Workspace:
    """The workspace server, ready to be routed to: see the module docstring for how to mount it."""

    server: MCPServer
    store: NoteStore
    asgi_app: ASGIApp

    def route(self, path: str = DEFAULT_PATH) -> Route:
        """A Starlette route serving the MCP endpoint at exactly `path` (GET, POST and DELETE)."""
        return Route(path, self.asgi_app)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the session manager while the app serves; close the notes database after. Once per Workspace."""
        try:
            async with self.server.session_manager.run():
                yield
        finally:
            self.store.close()


def create_workspace(
    db_path: Path,
    *,
    allowed_hosts: Sequence[str],
    allowed_origins: Sequence[str] | None = None,
    stateless: bool = True,
    json_response: bool = True,
) -> Workspace:
    """The workspace over the notes in `db_path` (created if missing), answering only the given Host values.

    `allowed_hosts` are Host header values such as `127.0.0.1:8470` or `127.0.0.1:*` (any port);
    `allowed_origins` default to the http and https origins of those hosts.
    """
    store = NoteStore(db_path)
    server = build_server(store)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(allowed_hosts),
        allowed_origins=list(allowed_origins)
        if allowed_origins is not None
        else allowed_origins_for(allowed_hosts),
    )
    # Called for the session manager it creates; the Starlette app it returns is not used (see module docstring).
    server.streamable_http_app(
        streamable_http_path=DEFAULT_PATH,
        stateless_http=stateless,
        json_response=json_response,
        transport_security=security,
    )
    return Workspace(server=server, store=store, asgi_app=StreamableHTTPASGIApp(server.session_manager))
