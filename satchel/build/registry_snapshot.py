"""Build step: `registry.json`, the registry entries of the local MCP servers this build ships.

It has the shape of a `/v0.1/servers` answer, so the service worker seeds its registry mirror from it at install
(the bundled servers work before, or without, any registry API), and `satchel serve` lists the same entries.
"""

from __future__ import annotations

import json

from satchel.build.context import BuildContext, BuildError
from satchel.registry import ServerJsonError
from satchel.registry.documents import check_bundled

SNAPSHOT = "registry.json"
#: Bundled entries change only with a build, so their registry timestamps are fixed: the mirror's incremental
#: sync then sees them as unchanged until a new build ships new ones.
_BUILD_EPOCH = "2026-01-01T00:00:00.000Z"


def snapshot_entries(servers: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "server": server,
            "_meta": {
                "io.modelcontextprotocol.registry/official": {
                    "status": "active",
                    "publishedAt": _BUILD_EPOCH,
                    "updatedAt": _BUILD_EPOCH,
                    "isLatest": True,
                }
            },
        }
        for server in sorted(servers, key=lambda s: str(s["name"]))
    ]


def write_registry_snapshot(ctx: BuildContext) -> None:
    for server in ctx.local_servers:
        try:
            check_bundled(server)
        except ServerJsonError as exc:
            raise BuildError(f"local server document is invalid: {exc}") from exc
    entries = snapshot_entries(ctx.local_servers)
    body = {"servers": entries, "metadata": {"count": len(entries)}}
    ctx.add(SNAPSHOT, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())
