"""nginx and Caddy configs that serve a bundle's `dist/` with every header the app needs.

Everything comes from `satchel/security.py`, the one place `satchel serve` reads too: the security headers
(COOP/COEP/CORP for cross-origin isolation, the CSP of the bundle's policy), `Cache-Control` (never cache `/sw.js`,
revalidate the rest) and the MIME types. Types for the other suffixes of the site come from Python's built-in
table (not the machine's `/etc/mime.types`), so the same site gives the same config everywhere.

Bundle files carry fixed mtimes (a reproducible archive), and both servers derive ETag and Last-Modified from
mtime and size: two bundles could then hand out equal validators for different bytes. So conditional requests are
switched off; every request gets the full file (from the local disk), and Range still works.

With an API upstream (`satchel bundle --api-upstream URL`), `/mcp/` and `/v0.1/` go to that `satchel serve` (the
workspace MCP server and the registry API) unchanged and unbuffered, so a streamed (SSE) answer reaches the app as
it is written. The Host header is passed on (the workspace checks it, and the registry writes its URLs from it), and
the upstream's own security and cache headers are replaced by the site's, so each is sent exactly once.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from satchel import __version__
from satchel.bundle.relay_proxy import caddy_relay, caddy_relay_errors, nginx_relay_locations, nginx_relay_map
from satchel.bundle.spec import API_PATHS, RELAY_PREFIX, BundleSpec, quoted
from satchel.security import (
    MIME_TYPES,
    SECURITY_HEADERS,
    SERVICE_WORKER_CACHE_CONTROL,
    SERVICE_WORKER_PATH,
    cache_control_for,
    security_headers,
)

#: Text types worth compressing on the wire (the browser stores the decoded bytes, so hashes are unaffected).
_COMPRESSIBLE = (
    "text/css",
    "text/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
)


def site_mime_types(paths: Iterable[str]) -> dict[str, str]:
    """Suffix → MIME type for every suffix in the site, plus all of `MIME_TYPES`; sorted by suffix."""
    builtin = mimetypes.MimeTypes()  # Python's own table only: reproducible across machines
    types: dict[str, str] = dict(MIME_TYPES)
    for path in paths:
        suffix = PurePosixPath(path).suffix.lower()
        if suffix and suffix not in types:
            guessed = builtin.types_map[True].get(suffix)
            if guessed is not None:
                types[suffix] = guessed
    return dict(sorted(types.items()))


def _nginx_headers(spec: BundleSpec, cache_control: str, indent: str) -> str:
    headers: Mapping[str, str] = {**security_headers(spec.policy), "Cache-Control": cache_control}
    return "".join(f"{indent}add_header {name} {quoted(value)} always;\n" for name, value in headers.items())


#: Headers both the site and `satchel serve` send: the proxy drops the upstream's copy and sends the site's.
_SITE_HEADERS = (*SECURITY_HEADERS, "Cache-Control")


def _nginx_api_location(spec: BundleSpec) -> str:
    if spec.api_base is None:
        return ""
    prefixes = "|".join(path.strip("/").replace(".", "\\.") for path in API_PATHS)
    hidden = "".join(f"            proxy_hide_header {name};\n" for name in _SITE_HEADERS)
    tls = "            proxy_ssl_server_name on;\n" if spec.api_base.startswith("https:") else ""
    return f"""
        # The workspace and the registry API ({" and ".join(API_PATHS)}) are served by satchel serve at
        # {spec.api_base}: request URIs pass unchanged (no URI part in proxy_pass), nothing is buffered.
        location ~ ^/(?:{prefixes})/ {{
            proxy_pass {spec.api_base};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
{tls}{hidden}        }}
"""


def nginx_conf(spec: BundleSpec, site_paths: Iterable[str]) -> str:
    """A complete nginx config: `nginx -p RUNTIME_DIR/ -c server/nginx.conf -e stderr`.

    Runtime files (pid, temp folders) are relative to the `-p` prefix, so nginx can run unprivileged from a
    systemd unit with a RuntimeDirectory; the site root is absolute (the install folder).
    """
    by_type: dict[str, list[str]] = {}
    for suffix, mime in site_mime_types(site_paths).items():
        by_type.setdefault(mime, []).append(suffix.lstrip("."))
    types = "".join(f"        {mime} {' '.join(suffixes)};\n" for mime, suffixes in sorted(by_type.items()))
    root = spec.install_dir / "dist"
    sw_cache = cache_control_for(SERVICE_WORKER_PATH)
    assert sw_cache == SERVICE_WORKER_CACHE_CONTROL
    return f"""# Generated by satchel bundle {__version__} for {spec.url}: serves {root} with the headers Satchel needs.
# Run: nginx -p /run/satchel/ -c {spec.install_dir}/server/nginx.conf -e stderr   (see satchel.service)
# To use an existing nginx instead, copy the server block below into its configuration.
daemon off;
worker_processes 1;
pid nginx.pid;
error_log stderr warn;

events {{
    worker_connections 256;
}}

http {{
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    sendfile on;
    server_tokens off;

    # MIME types of every file of this site (.wasm, .webmanifest, .mjs included); anything else is a download.
    types {{
{types}    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/css text/javascript application/json application/manifest+json image/svg+xml;
    gzip on;
    gzip_types {" ".join(_COMPRESSIBLE)};
{nginx_relay_map(spec)}
    server {{
        listen {spec.listen};
        server_name _;
        root {root};
        index index.html;
        # Fixed mtimes in the bundle make mtime-based validators unreliable: always send the whole file.
        etag off;
        if_modified_since off;

        # Every response, errors included: cross-origin isolation, CSP, and revalidation (the service worker, not
        # the HTTP cache, keeps the app offline). nginx drops inherited add_header lines in a location that has its
        # own, so /sw.js repeats them with its own Cache-Control.
{_nginx_headers(spec, cache_control_for("/"), "        ")}
        location = {SERVICE_WORKER_PATH} {{
{_nginx_headers(spec, sw_cache, "            ")}        }}

        location / {{
            try_files $uri $uri/ =404;
        }}
{_nginx_api_location(spec)}{nginx_relay_locations(spec)}    }}
}}
"""


def caddyfile(spec: BundleSpec, site_paths: Iterable[str]) -> str:
    """A Caddyfile serving the same site with the same headers (`caddy run --config server/Caddyfile`)."""
    host, _, port = spec.listen.rpartition(":")
    root = spec.install_dir / "dist"
    # Paths another server answers keep its Content-Type and are not compressed (compressing a stream would hold
    # events back in the encoder).
    relayed = [f"{RELAY_PREFIX}*"] if spec.relay_routes else []
    api_paths = [f"{path}*" for path in API_PATHS] if spec.api_base is not None else []
    proxied = " ".join([*api_paths, *relayed])
    matchers = []
    for suffix, mime in site_mime_types(site_paths).items():
        name = "type_" + suffix.lstrip(".").replace("-", "_")
        where = f"{{\n\t\tpath *{suffix}\n\t\tnot path {proxied}\n\t}}" if proxied else f"path *{suffix}"
        matchers.append(f"\t@{name} {where}\n\theader @{name} Content-Type {quoted(mime)}\n")
    headers = "".join(
        f"\t\t{name} {quoted(value)}\n" for name, value in security_headers(spec.policy).items()
    )
    api = ""
    if spec.api_base is not None:
        hidden = "".join(f"\t\theader_down -{name}\n" for name in _SITE_HEADERS)
        api = (
            f"\t# The workspace and the registry API are served by satchel serve at {spec.api_base}: unbuffered.\n"
            f"\t@api path {' '.join(api_paths)}\n"
            f"\treverse_proxy @api {spec.api_base} {{\n\t\tflush_interval -1\n{hidden}\t}}\n"
        )
    encode = f"\t@site not path {proxied}\n\tencode @site gzip\n" if proxied else "\tencode gzip\n"
    # A relayed answer keeps the remote server's Cache-Control.
    not_sw = " ".join([SERVICE_WORKER_PATH, *relayed])
    return f"""# Generated by satchel bundle {__version__} for {spec.url}: serves {root} with the headers Satchel needs.
# Run: caddy run --config {spec.install_dir}/server/Caddyfile --adapter caddyfile
{{
\tadmin off
\tauto_https off
}}

http://:{port} {{
\tbind {host}
\troot * {root}
\theader {{
{headers}\t}}
\t@not_sw not path {not_sw}
\theader @not_sw Cache-Control {quoted(cache_control_for("/"))}
\theader {SERVICE_WORKER_PATH} Cache-Control {quoted(SERVICE_WORKER_CACHE_CONTROL)}
\t# Fixed mtimes in the bundle make mtime-based validators unreliable: always send the whole file.
\trequest_header -If-None-Match
\trequest_header -If-Modified-Since
{"".join(matchers)}{api}{caddy_relay(spec)}{encode}{caddy_relay_errors(spec)}\tfile_server
}}
"""
