"""Registry entries as an upstream MCP registry serves them, for the tests of Satchel's registry and its mirror."""

from __future__ import annotations

from typing import Any

from satchel.registry.schema import OFFICIAL_META_KEY


def upstream_entry(
    name: str, version: str, updated: str = "2026-10-01T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    """One server list entry of an upstream registry: the server.json and the registry's official metadata."""
    official = {"status": "active", "publishedAt": updated, "updatedAt": updated, "isLatest": True}
    return {
        "server": {"name": name, "description": f"{name} upstream", "version": version, **extra},
        "_meta": {OFFICIAL_META_KEY: official, "org.example/rank": 7},
    }
