"""The registry API (`/v0.1/servers...`) in the official MCP registry format, as Starlette routes.

What the browser's registry mirror reads: the servers bundled with the app merged with those of the configured
upstream registries (bundled entries win a name clash; upstream entries keep their own `_meta`). Endpoints,
query parameters and bodies follow the registry's openapi.yaml: `GET /v0.1/servers` (`cursor`, `limit`,
`search`, `updated_since`, `version`, `include_deleted`), `GET /v0.1/servers/{serverName}/versions` and `GET
/v0.1/servers/{serverName}/versions/{version}` (`latest` for the latest one), with `serverName` URL-encoded
(`io.satchel%2Fworkspace`). Errors are `{"error": "..."}` with 400 or 404. Upstream problems never fail a
request: they are listed under `metadata["io.satchel/upstreamErrors"]` (the format has no field of its own for
them).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from satchel.registry.documents import RegistryEntry, bundled_entries, parse_timestamp, version_key
from satchel.registry.upstream import DEFAULT_TTL, UpstreamError, UpstreamRegistries

UPSTREAM_ERRORS_KEY = "io.satchel/upstreamErrors"
DEFAULT_LIMIT = 30
MAX_LIMIT = 100


class _BadRequest(Exception):
    """A query parameter the client must fix; the message says how."""


class Registry:
    """The merged list of server entries: bundled ones fixed at start, upstream ones fetched when asked."""

    def __init__(self, bundled: Sequence[RegistryEntry], upstreams: UpstreamRegistries | None) -> None:
        self.bundled = list(bundled)
        self.upstreams = upstreams
        self._bundled_names = {entry.name for entry in bundled}

    async def entries(self) -> tuple[list[RegistryEntry], list[UpstreamError]]:
        if self.upstreams is None:
            return list(self.bundled), []
        fetched, errors = await self.upstreams.fetch()
        merged = list(self.bundled)
        seen = {(entry.name, entry.version) for entry in merged}
        for entry in fetched:
            key = (entry.name, entry.version)
            if entry.name in self._bundled_names or key in seen:
                continue
            seen.add(key)
            merged.append(entry)
        return merged, errors


def registry_routes(
    bundled: Sequence[Mapping[str, Any]],
    upstreams: Sequence[str] = (),
    *,
    updated_at: datetime | None = None,
    upstream_ttl: float = DEFAULT_TTL,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> list[BaseRoute]:
    """Routes serving `bundled` server.json documents (checked now: an invalid one raises ServerJsonError).

    `upstreams` are base URLs of other registries to merge in; `updated_at` stamps the bundled entries
    (default: now, i.e. when the server started); `upstream_transport` lets tests answer for the upstreams.
    """
    entries = bundled_entries(bundled, updated_at or datetime.now(UTC))
    fetcher = (
        UpstreamRegistries(upstreams, ttl=upstream_ttl, transport=upstream_transport) if upstreams else None
    )
    registry = Registry(entries, fetcher)

    async def list_servers(request: Request) -> JSONResponse:
        try:
            query = _ListQuery.parse(request.query_params)
        except _BadRequest as exc:
            return _error(str(exc), 400)
        found, errors = await registry.entries()
        selected = sorted((e for e in found if query.selects(e)), key=lambda e: (e.name, e.version))
        if query.after is not None:
            after = query.after
            selected = [e for e in selected if (e.name, e.version) > after]
        page = selected[: query.limit]
        metadata: dict[str, Any] = {"count": len(page)}
        if len(selected) > len(page):
            metadata["nextCursor"] = _encode_cursor(page[-1])
        if registry.upstreams is not None:
            metadata[UPSTREAM_ERRORS_KEY] = [error.to_json() for error in errors]
        origin = str(request.base_url)
        return JSONResponse({"servers": [e.to_json(origin) for e in page], "metadata": metadata})

    async def list_versions(request: Request) -> JSONResponse:
        name = request.path_params["server_name"]
        include_deleted = _flag(request, "include_deleted")
        found, _ = await registry.entries()
        versions = [e for e in found if e.name == name and (include_deleted or not e.is_deleted)]
        if not versions:
            return _error("Server not found", 404)
        versions.sort(key=lambda e: version_key(e.version), reverse=True)
        origin = str(request.base_url)
        return JSONResponse(
            {"servers": [e.to_json(origin) for e in versions], "metadata": {"count": len(versions)}}
        )

    async def get_version(request: Request) -> JSONResponse:
        name = request.path_params["server_name"]
        wanted = request.path_params["version"]
        include_deleted = _flag(request, "include_deleted")
        found, _ = await registry.entries()
        versions = [e for e in found if e.name == name and (include_deleted or not e.is_deleted)]
        if not versions:
            return _error("Server not found", 404)
        entry = (
            _latest(versions)
            if wanted == "latest"
            else next((e for e in versions if e.version == wanted), None)
        )
        if entry is None:
            return _error("Server version not found", 404)
        return JSONResponse(entry.to_json(str(request.base_url)))

    return [
        Route("/v0.1/servers", list_servers, methods=["GET"]),
        # `serverName` arrives percent-decoded (`io.satchel/workspace`), so it is matched as a path.
        Route("/v0.1/servers/{server_name:path}/versions/{version}", get_version, methods=["GET"]),
        Route("/v0.1/servers/{server_name:path}/versions", list_versions, methods=["GET"]),
    ]


@dataclass(frozen=True)
class _ListQuery:
    """The query parameters of `GET /v0.1/servers`, checked."""

    limit: int
    after: tuple[str, str] | None
    search: str | None
    updated_since: datetime | None
    version: str | None
    include_deleted: bool

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> _ListQuery:
        limit_text = params.get("limit")
        try:
            limit = DEFAULT_LIMIT if limit_text is None else int(limit_text)
        except ValueError:
            raise _BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise _BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
        cursor = params.get("cursor")
        since_text = params.get("updated_since") or None
        try:
            since = parse_timestamp(since_text) if since_text else None
        except ValueError:
            raise _BadRequest(
                "updated_since must be an RFC 3339 date-time, e.g. 2025-08-07T13:15:04.280Z"
            ) from None
        include_deleted = params.get("include_deleted", "false").lower() == "true" or since is not None
        return cls(
            limit=limit,
            after=_decode_cursor(cursor) if cursor else None,
            search=(params.get("search") or "").casefold() or None,
            updated_since=since,
            version=params.get("version") or None,
            include_deleted=include_deleted,
        )

    def selects(self, entry: RegistryEntry) -> bool:
        if entry.is_deleted and not self.include_deleted:
            return False
        if self.search is not None and self.search not in entry.name.casefold():
            return False
        if self.version == "latest" and not entry.is_latest:
            return False
        if self.version not in (None, "latest") and entry.version != self.version:
            return False
        if self.updated_since is not None:
            # An entry without a timestamp may have changed at any time: it is kept.
            updated = entry.updated_at
            if updated is not None and updated <= self.updated_since:
                return False
        return True


def _latest(versions: Sequence[RegistryEntry]) -> RegistryEntry:
    marked = [e for e in versions if e.is_latest]
    return max(marked or versions, key=lambda e: version_key(e.version))


def _encode_cursor(entry: RegistryEntry) -> str:
    raw = json.dumps([entry.name, entry.version], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, version = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise _BadRequest("cursor is not one this registry returned; start again without it") from None
    if not isinstance(name, str) or not isinstance(version, str):
        raise _BadRequest("cursor is not one this registry returned; start again without it")
    return name, version


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
