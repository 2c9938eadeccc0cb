"""The MCP registry side of Satchel: server.json documents, their schema rules, upstream merging and the API.

`registry_routes(bundled, upstreams)` gives the Starlette routes of `/v0.1/servers`; `local_server` and
`remote_server` build the documents of the servers Satchel bundles; `validate_server_json` checks any document
against the server.json rules of schema 2025-12-11.
"""

from satchel.registry.documents import LOCAL_META_KEY, LocalFile, local_server, remote_server
from satchel.registry.routes import UPSTREAM_ERRORS_KEY, registry_routes
from satchel.registry.schema import SCHEMA_URL, ServerJsonError, server_json_problems, validate_server_json

__all__ = [
    "LOCAL_META_KEY",
    "SCHEMA_URL",
    "UPSTREAM_ERRORS_KEY",
    "LocalFile",
    "ServerJsonError",
    "local_server",
    "registry_routes",
    "remote_server",
    "server_json_problems",
    "validate_server_json",
]
