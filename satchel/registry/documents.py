"""Satchel's server.json documents and the registry entries that wrap them.

The registry lists two kinds of servers. A *local* server runs in a Web Worker of the page; its document
carries, under `_meta["io.satchel/local"]`, which worker hosts it and the files it needs (WASM module, wheels,
models), each with the sha256 and size the browser checks before use. A *remote* server is listed under
`remotes` like any other streamable-http server. Bundled documents may give a remote URL as a path on the
serving origin (`/mcp/workspace`): the schema wants an absolute `http(s)://` URL, so such paths are resolved
against the origin each request came to (`resolve_urls`), which is the only origin the browser can reach the
server at anyway.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from satchel.registry.schema import (
    OFFICIAL_META_KEY,
    SCHEMA_URL,
    SHA256_PATTERN,
    Problems,
    ServerJsonError,
    server_json_problems,
)

LOCAL_META_KEY = "io.satchel/local"
WORKERS = frozenset({"wasi-server", "pyodide-server"})
# Resolving against a stand-in origin lets a bundled document be checked exactly as it will be served.
CHECK_ORIGIN = "http://127.0.0.1/"

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class LocalFile:
    """A file a local server needs in the browser, pinned by digest."""

    url: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "sha256": self.sha256, "size": self.size}


def local_server(
    name: str,
    description: str,
    version: str,
    *,
    worker: str,
    files: Iterable[LocalFile],
    title: str | None = None,
) -> dict[str, Any]:
    """The server.json document of a server that runs in one of the page's workers."""
    doc = _document(name, description, version, title)
    doc["_meta"] = {LOCAL_META_KEY: {"worker": worker, "files": [f.to_json() for f in files]}}
    return doc


def remote_server(
    name: str, description: str, version: str, *, url: str, title: str | None = None
) -> dict[str, Any]:
    """The server.json document of a server reached over Streamable HTTP (`url` may be a path on ours)."""
    doc = _document(name, description, version, title)
    doc["remotes"] = [{"type": "streamable-http", "url": url}]
    return doc


def _document(name: str, description: str, version: str, title: str | None) -> dict[str, Any]:
    """The fields every server.json document of ours starts with."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": description,
        "version": version,
    }
    if title is not None:
        doc["title"] = title
    return doc


def local_meta_problems(doc: Mapping[str, Any]) -> Problems:
    """Every way the `io.satchel/local` block of `doc` is malformed (empty when absent or valid)."""
    meta = doc.get("_meta")
    if not isinstance(meta, Mapping) or LOCAL_META_KEY not in meta:
        return []
    where = f"/_meta/{LOCAL_META_KEY}"
    local = meta[LOCAL_META_KEY]
    if not isinstance(local, Mapping):
        return [f"{where}: must be an object"]
    problems: Problems = []
    if local.get("worker") not in WORKERS:
        problems.append(f"{where}/worker: must be one of {sorted(WORKERS)}")
    files = local.get("files")
    if not isinstance(files, list):
        return [*problems, f"{where}/files: is required and must be an array"]
    for index, item in enumerate(files):
        path = f"{where}/files/{index}"
        if not isinstance(item, Mapping):
            problems.append(f"{path}: must be an object")
            continue
        if not isinstance(item.get("url"), str) or not item["url"]:
            problems.append(f"{path}/url: must be a non-empty string")
        if not isinstance(item.get("sha256"), str) or not SHA256_PATTERN.match(item["sha256"]):
            problems.append(f"{path}/sha256: must be 64 lowercase hex digits")
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{path}/size: must be a non-negative integer")
    return problems


def resolve_urls(doc: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """A copy of `doc` whose remote URLs given as paths (`/mcp/x`) are absolute URLs on `origin`."""
    resolved = copy.deepcopy(dict(doc))
    for remote in resolved.get("remotes") or ():
        if isinstance(remote, dict) and isinstance(remote.get("url"), str) and remote["url"].startswith("/"):
            remote["url"] = urljoin(origin, remote["url"])
    return resolved


def check_bundled(doc: Mapping[str, Any]) -> None:
    """Raise `ServerJsonError` unless `doc`, as it will be served, follows server.json and our `_meta`."""
    problems = server_json_problems(resolve_urls(doc, CHECK_ORIGIN)) + local_meta_problems(doc)
    if problems:
        raise ServerJsonError(f"bundled server {doc.get('name')!r}", problems)


def version_key(version: str) -> tuple[int, tuple[int, ...], tuple[tuple[int, int | str], ...]]:
    """Order versions the semver way (a release after its pre-releases); non-semver versions sort first."""
    match = _SEMVER.match(version)
    if match is None:
        return (0, (), ((1, version),))
    release = (int(match[1]), int(match[2]), int(match[3]))
    if match[4] is None:
        return (1, release, ((2, ""),))
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in match[4].split("."))
    return (1, release, parts)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, the form the official registry answers with."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date-time; a value without a UTC offset is refused because it names no single moment."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


@dataclass(frozen=True)
class RegistryEntry:
    """One server version as the registry API lists it: the server.json document plus registry `_meta`."""

    server: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)
    bundled: bool = False

    @property
    def name(self) -> str:
        return str(self.server["name"])

    @property
    def version(self) -> str:
        return str(self.server["version"])

    @property
    def official(self) -> Mapping[str, Any]:
        official = self.meta.get(OFFICIAL_META_KEY)
        return official if isinstance(official, Mapping) else {}

    @property
    def is_latest(self) -> bool:
        return self.official.get("isLatest") is True

    @property
    def is_deleted(self) -> bool:
        return self.official.get("status") == "deleted"

    @property
    def updated_at(self) -> datetime | None:
        stamp = self.official.get("updatedAt")
        try:
            return parse_timestamp(stamp) if isinstance(stamp, str) else None
        except ValueError:
            return None

    def to_json(self, origin: str) -> dict[str, Any]:
        """The `ServerResponse` body, with bundled path URLs made absolute on the request's `origin`."""
        server = resolve_urls(self.server, origin) if self.bundled else dict(self.server)
        return {"server": server, "_meta": copy.deepcopy(dict(self.meta))}


def bundled_entries(docs: Sequence[Mapping[str, Any]], updated_at: datetime) -> list[RegistryEntry]:
    """Registry entries for the documents the app ships, each checked, with `isLatest` set per server name."""
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        check_bundled(doc)
        key = (str(doc["name"]), str(doc["version"]))
        if key in seen:
            raise ValueError(f"bundled server {key[0]!r} version {key[1]!r} is listed twice")
        seen.add(key)
    latest: dict[str, str] = {}
    for name, version in seen:
        if name not in latest or version_key(version) > version_key(latest[name]):
            latest[name] = version
    stamp = format_timestamp(updated_at)
    entries = []
    for doc in docs:
        official = {
            "status": "active",
            "publishedAt": stamp,
            "updatedAt": stamp,
            "isLatest": latest[str(doc["name"])] == doc["version"],
        }
        entries.append(RegistryEntry(copy.deepcopy(dict(doc)), {OFFICIAL_META_KEY: official}, bundled=True))
    return entries
