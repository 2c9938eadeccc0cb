"""Satchel's OAuth client identity: the Client ID Metadata Document `satchel serve` publishes.

MCP authorization (2025-11-25) lets a client be identified by the https URL of a JSON document describing it, so an
authorization server that supports such documents needs no registration step. The app (app/common/oauth.js) asks
for `/oauth/client-metadata.json`; when its `client_id` is an https URL, that URL is the app's client_id, otherwise
the app registers itself dynamically (RFC 7591) or the user enters a client they registered.

The document's `client_id` must be the URL it is published at. By default that is this server's own URL for it;
behind a TLS proxy, or where the document is published elsewhere, the operator says where (`--oauth-client-id`).
The metadata itself is the same as what the app sends when registering (`clientMetadata()` in app/common/oauth.js;
tests/test_oauth_client.py checks that the two agree).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CLIENT_METADATA_PATH = "/oauth/client-metadata.json"
CALLBACK_PATH = "/oauth/callback.html"


def client_metadata(origin: str) -> dict[str, Any]:
    """The app's OAuth client metadata for the site at `origin` (scheme://host[:port])."""
    return {
        "client_name": "Satchel",
        "client_uri": origin,
        "redirect_uris": [f"{origin}{CALLBACK_PATH}"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def client_metadata_route(client_id: str | None = None) -> Route:
    """The route serving the document; `client_id` is where it is published (default: this server's URL of it)."""

    async def document(request: Request) -> JSONResponse:
        # Published elsewhere (a TLS proxy's public URL): the app is at that URL's origin.
        published = urlsplit(client_id) if client_id else request.url
        origin = f"{published.scheme}://{published.netloc}"
        body = {"client_id": client_id or f"{origin}{CLIENT_METADATA_PATH}", **client_metadata(origin)}
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    return Route(CLIENT_METADATA_PATH, document, methods=["GET"])
