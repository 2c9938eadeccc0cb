"""Fetch the servers of configured upstream MCP registries, for the dev server to merge into its own list.

Upstream registries send no CORS headers, so the browser cannot read them itself: the server fetches them (all
pages, deleted entries included), keeps each answer for a short time, and reports what went wrong per upstream
instead of failing. A client's `updated_since` is applied here, to the cached list, and never passed upstream:
keyed on it, the cache grew by one entry and one upstream fetch per distinct timestamp a client chose to send, so
the cache holds exactly one answer per configured upstream and each upstream is fetched at most once per TTL,
whatever the clients ask. An unreachable upstream, a body that is not a
registry `ServerList`, or entries that break the server.json rules are reported as `UpstreamError`s (and
logged); the valid entries still count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from satchel.registry.documents import RegistryEntry
from satchel.registry.schema import server_response_problems

logger = logging.getLogger(__name__)

LIST_PATH = "/v0.1/servers"
PAGE_LIMIT = 100
MAX_PAGES = 20
DEFAULT_TTL = 300.0
# A failed fetch is retried sooner than a good answer expires, but not on every request.
ERROR_TTL = 15.0
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class UpstreamError:
    """What went wrong with one upstream registry, in words a person can act on."""

    url: str
    error: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "error": self.error}


@dataclass(frozen=True)
class _Answer:
    expires: float
    entries: tuple[RegistryEntry, ...]
    errors: tuple[UpstreamError, ...]


class UpstreamFormatError(Exception):
    """An upstream answered with something that is not a registry server list."""


def list_url(base: str) -> str:
    """The `GET /v0.1/servers` URL of a registry configured by its base URL (or by that URL itself)."""
    base = base.rstrip("/")
    return base if base.endswith(LIST_PATH) else base + LIST_PATH


class UpstreamRegistries:
    """The configured upstream registries, fetched on demand, each cached `ttl` seconds (one answer per URL)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        ttl: float = DEFAULT_TTL,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = tuple(urls)
        self._ttl = ttl
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        # Keyed on the configured URL only: nothing a client sends can add an entry.
        self._cache: dict[str, _Answer] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def fetch(self) -> tuple[list[RegistryEntry], list[UpstreamError]]:
        """Every entry of every upstream (deleted ones too) in configuration order, and what went wrong,
        fetched concurrently; the caller filters them."""
        answers: list[_Answer | None] = [None] * len(self.urls)

        async def one(index: int, url: str, client: httpx.AsyncClient) -> None:
            answers[index] = await self._cached(url, client)

        async with (
            httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, follow_redirects=True
            ) as client,
            anyio.create_task_group() as group,
        ):
            for index, url in enumerate(self.urls):
                group.start_soon(one, index, url, client)
        entries = [entry for answer in answers if answer for entry in answer.entries]
        errors = [error for answer in answers if answer for error in answer.errors]
        return entries, errors

    async def _cached(self, url: str, client: httpx.AsyncClient) -> _Answer:
        async with self._locks.setdefault(url, anyio.Lock()):
            answer = self._cache.get(url)
            if answer is not None and answer.expires > self._clock():
                return answer
            entries, errors = await _fetch_all(url, client)
            for error in errors:
                logger.warning("upstream registry %s: %s", error.url, error.error)
            ttl = min(self._ttl, ERROR_TTL) if errors else self._ttl
            answer = _Answer(self._clock() + ttl, tuple(entries), tuple(errors))
            self._cache[url] = answer
            return answer


async def _fetch_all(url: str, client: httpx.AsyncClient) -> tuple[list[RegistryEntry], list[UpstreamError]]:
    """Every page of one upstream; what was read before a failure is kept."""
    # Deleted entries too, so that a client refreshing with updated_since learns of deletions; a registry that
    # does not know the parameter ignores it.
    params: dict[str, str] = {"limit": str(PAGE_LIMIT), "include_deleted": "true"}
    entries: list[RegistryEntry] = []
    skipped: list[str] = []
    errors: list[UpstreamError] = []
    try:
        for _ in range(MAX_PAGES):
            body = await _get_page(client, list_url(url), params)
            for index, item in enumerate(body["servers"]):
                problems = server_response_problems(item)
                if problems:
                    name = item.get("server", {}).get("name") if isinstance(item, dict) else None
                    skipped.append(f"{name or f'entry {index}'} ({problems[0]})")
                    continue
                entries.append(RegistryEntry(item["server"], item.get("_meta") or {}))
            next_cursor = (body.get("metadata") or {}).get("nextCursor")
            if not next_cursor:
                break
            params["cursor"] = str(next_cursor)
        else:
            errors.append(
                UpstreamError(url, f"stopped after {MAX_PAGES} pages of {PAGE_LIMIT}; list truncated")
            )
    except httpx.HTTPStatusError as exc:
        errors.append(UpstreamError(url, f"answered HTTP {exc.response.status_code}"))
    except httpx.HTTPError as exc:
        errors.append(UpstreamError(url, f"unreachable ({type(exc).__name__}: {exc or 'no detail'})"))
    except UpstreamFormatError as exc:
        errors.append(UpstreamError(url, f"malformed response: {exc}"))
    if skipped:
        errors.append(
            UpstreamError(url, f"skipped {len(skipped)} invalid entries: " + "; ".join(skipped[:5]))
        )
    return entries, errors


async def _get_page(client: httpx.AsyncClient, url: str, params: dict[str, str]) -> dict[str, Any]:
    response = await client.get(url, params=params, headers={"Accept": "application/json"})
    response.raise_for_status()
    try:
        body = response.json()
    except ValueError as exc:
        raise UpstreamFormatError("body is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("servers"), list):
        raise UpstreamFormatError("no 'servers' array")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise UpstreamFormatError("'metadata' is not an object")
    return body
