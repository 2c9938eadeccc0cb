"""The HTTP headers Satchel's pages need, defined once.

The dev server, the page's own `<meta>` CSP and (later) the generated nginx/Caddy configs all read these, so a
static host and `satchel serve` can never disagree about isolation, caching or the Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

#: Directives a `<meta http-equiv>` policy may not carry (browsers ignore them there, with a console warning).
_HEADER_ONLY_DIRECTIVES = frozenset({"frame-ancestors", "report-uri", "sandbox"})


def content_security_policy(*, for_meta: bool = False) -> str:
    """The CSP as a header value, or as the subset a `<meta http-equiv>` tag may carry."""
    return "; ".join(
        f"{name} {value}"
        for name, value in CSP_DIRECTIVES.items()
        if not (for_meta and name in _HEADER_ONLY_DIRECTIVES)
    )


#: Sent with every response: cross-origin isolation (SharedArrayBuffer, precise timers for WASM workers) and the
#: usual hardening. The service worker copies these onto responses it builds so offline pages stay isolated.
SECURITY_HEADERS: Mapping[str, str] = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}

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
