"""The MCP protocol versions this server speaks, and the per-request ``_meta`` envelope of the 2026 era.

Two eras: the ``initialize`` handshake negotiates one version for the connection (2024-11-05 … 2025-11-25, what the
TypeScript SDK speaks), while 2026-07-28 is stateless — ``server/discover`` advertises versions and every request
carries its version, client info and capabilities in ``params._meta`` (what the Python SDK 2.x client speaks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from satchel.tools.jsonrpc import INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION, JsonRpcError

HANDSHAKE_VERSIONS: Final = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS: Final = ("2026-07-28",)
LATEST_HANDSHAKE_VERSION: Final = HANDSHAKE_VERSIONS[-1]
STRUCTURED_OUTPUT_SINCE: Final = "2025-06-18"
"""``outputSchema``, ``structuredContent`` and tool ``title`` arrived in this version; older peers do not get them."""

PROTOCOL_VERSION_KEY: Final = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY: Final = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY: Final = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY: Final = "io.modelcontextprotocol/serverInfo"


@dataclass(frozen=True)
class Era:
    """The protocol version one request is served at, and whether it came in the 2026 per-request envelope."""

    version: str
    modern: bool

    @property
    def has_structured_output(self) -> bool:
        return self.modern or HANDSHAKE_VERSIONS.index(self.version) >= HANDSHAKE_VERSIONS.index(
            STRUCTURED_OUTPUT_SINCE
        )


def negotiate_handshake(requested: object) -> str:
    """The version to answer an ``initialize`` with: the client's if we speak it, else our latest handshake one."""
    if not isinstance(requested, str):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params for initialize: protocolVersion must be a string")
    return requested if requested in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE_VERSION


def envelope_version(params: dict[str, Any]) -> str | None:
    """The 2026 envelope's protocol version if ``params._meta`` carries one; raises for a malformed envelope."""
    meta = params.get("_meta")
    if not isinstance(meta, dict) or PROTOCOL_VERSION_KEY not in meta:
        return None
    missing = [key for key in (PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY) if key not in meta]
    if missing:
        raise JsonRpcError(
            INVALID_PARAMS, f"params._meta is missing the required key(s): {', '.join(missing)}"
        )
    version = meta[PROTOCOL_VERSION_KEY]
    if not isinstance(version, str):
        raise JsonRpcError(INVALID_PARAMS, f"params._meta[{PROTOCOL_VERSION_KEY!r}] must be a string")
    if version not in MODERN_VERSIONS:
        raise JsonRpcError(
            UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported protocol version {version!r}; this server speaks {', '.join(MODERN_VERSIONS)} per request "
            f"and {', '.join(HANDSHAKE_VERSIONS)} through initialize",
            # Listing the handshake versions too tells a client with no mutual modern version to fall back to them.
            {"supported": [*HANDSHAKE_VERSIONS, *MODERN_VERSIONS], "requested": version},
        )
    return version
