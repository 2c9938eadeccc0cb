"""The HTTP headers Satchel's pages need, defined once.

The dev server, the page's own `<meta>` CSP and the generated nginx/Caddy configs all read these, so a static host
and `satchel serve` can never disagree about isolation, caching or the Content-Security-Policy. The CSP depends on
the site's managed policy (`servers.origins` decides `connect-src`), so it is a function of the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from satchel.policy import Policy

#: Where the page and the service worker may connect when no policy lists origins: the app's own origin and any
#: MCP server the user adds. `https:` alone would shut out the plain-http servers of a LAN (a NAS, a lab machine on
#: 192.168.x.y), and `http://localhost:* http://127.0.0.1:*` covers only this machine's. Mixed-content blocking still
#: keeps an https page from plain http (the same-origin `/relay` of `satchel serve` is the way round that): `http:`
#: is for an app served on http://localhost, `satchel serve`'s default.
OPEN_CONNECT_SOURCES = "'self' https: http:"

#: Strict CSP: scripts only from our origin, no inline script, no eval; WebAssembly compilation is allowed
#: (`wasm-unsafe-eval`) because the local MCP servers are WASM modules.
CSP_DIRECTIVES: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "worker-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "font-src": "'self'",
    "connect-src": OPEN_CONNECT_SOURCES,  # a managed policy may narrow it: see connect_sources
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

#: Directives a `<meta http-equiv>` policy may not carry (browsers ignore them there, with a console warning).
_HEADER_ONLY_DIRECTIVES = frozenset({"frame-ancestors", "report-uri", "sandbox"})


def connect_sources(policy: Policy | None) -> str:
    """`connect-src`: open (see OPEN_CONNECT_SOURCES) unless the managed policy lists `servers.origins`, then this
    origin and exactly those."""
    if policy is None or policy.allowed_origins is None:
        return OPEN_CONNECT_SOURCES
    return " ".join(("'self'", *policy.allowed_origins))


def content_security_policy(*, policy: Policy | None = None, for_meta: bool = False) -> str:
    """The CSP of a site built with `policy` (None: unmanaged) as a header value, or as the subset a
    `<meta http-equiv>` tag may carry."""
    directives = {**CSP_DIRECTIVES, "connect-src": connect_sources(policy)}
    return "; ".join(
        f"{name} {value}"
        for name, value in directives.items()
        if not (for_meta and name in _HEADER_ONLY_DIRECTIVES)
    )


def security_headers(policy: Policy | None = None) -> dict[str, str]:
    """Sent with every response of a site built with `policy` (None: unmanaged): cross-origin isolation
    (SharedArrayBuffer, precise timers for WASM workers), the CSP and the usual hardening. The service worker's
    fetches obey the CSP of `/sw.js`'s own response, so the header, not only the page's `<meta>`, must carry it."""
    return {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Security-Policy": content_security_policy(policy=policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
    }


#: The headers of an unmanaged site.
SECURITY_HEADERS: Mapping[str, str] = security_headers()

#: The service-worker script must always be fetched fresh, or an update could be missed for a day.
SERVICE_WORKER_PATH = "/sw.js"
SERVICE_WORKER_CACHE_CONTROL = "no-cache, no-store, must-revalidate"
#: Everything else keeps a stable name across builds, so it is revalidated (ETag) rather than cached blindly; the
#: service worker, not the HTTP cache, is what makes the app fast and offline.
STATIC_CACHE_CONTROL = "no-cache"

#: MIME types the app relies on that Python's `mimetypes` may not know or may get wrong.
MIME_TYPES: Mapping[str, str] = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".gguf": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".whl": "application/zip",
}


def cache_control_for(path: str) -> str:
    """Cache-Control for a URL path of the built site."""
    return SERVICE_WORKER_CACHE_CONTROL if path == SERVICE_WORKER_PATH else STATIC_CACHE_CONTROL
