"""The relay of a kiosk bundle: nginx and Caddy config blocks for `/relay/<scheme>/<host[:port]>/…`, one per origin
of the policy's `servers.origins`: the form `satchel serve`'s relay answers, which the app builds (remote-fetch.js).

A bundle is served by nginx or Caddy, not by `satchel serve`, so its relay for remote MCP servers without CORS is the
web server's proxy. Each route goes to one fixed origin written into the config; nothing in a request chooses where
it goes, so there is no server-side request forgery to guard against. Otherwise the routes follow satchel/relay.py
where the servers can: only requests with `X-Satchel-Relay: 1` (other origins cannot send it without a preflight),
the same error kinds in `X-Satchel-Relay-Error`, `X-Satchel-Relay-Target`, no cookies either way, redirects passed
back as they are, 4 MiB request bodies, 10 s to connect, streams unbuffered and dropped after 5 minutes of silence.
nginx passes only the request headers MCP needs; Caddy 2.6 cannot drop all headers but a list, so it drops the
browser's own (cookies, origin, referrer, fetch metadata, forwarding headers). Neither caps the response size, and
nginx waits up to the idle limit (not 30 s) for response headers. nginx resolves host names when a request comes,
through `BundleSpec.resolvers` (resolving when it starts would keep it from starting on a kiosk that boots offline),
and checks https origins' certificates against the system's CAs.
"""

from __future__ import annotations

from collections.abc import Mapping

from satchel.bundle.spec import RELAY_PREFIX, BundleSpec, RelayRoute, quoted
from satchel.relay import (
    ERROR_HEADER,
    FORWARDED_REQUEST_HEADERS,
    RELAY_HEADER,
    TARGET_HEADER,
    USER_AGENT,
    ErrorKind,
    RelayLimits,
)
from satchel.security import SECURITY_HEADERS, security_headers

LIMITS = RelayLimits()
#: Where Debian and Ubuntu keep the CA bundle that nginx checks https origins against.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
#: Request headers a browser adds that must not reach a remote server (Caddy deletes these; nginx allows a list).
BROWSER_REQUEST_HEADERS = (
    "Cookie",
    "Origin",
    "Referer",
    RELAY_HEADER,
    "Accept-Language",
    "Sec-*",
    "X-Forwarded-*",
    "Forwarded",
    "Via",
    "X-Real-Ip",
)
#: What the relay answers itself, by error kind: status and message (the same as `satchel serve`'s where it can).
ERRORS: Mapping[ErrorKind, tuple[int, str]] = {
    "forbidden": (403, f"the relay serves Satchel's own pages only (they send {RELAY_HEADER}: 1)"),
    "too-large": (413, f"the request body is larger than {LIMITS.request_body_bytes} bytes"),
    "unreachable": (502, "the server cannot be reached"),
    "timeout": (504, "the server did not answer in time"),
}


def _error_body(kind: ErrorKind) -> str:
    message = ERRORS[kind][1].replace("'", "\\u0027")  # nginx quotes the body in single quotes
    return f'{{"error": "{message}"}}'


def nginx_relay_map(spec: BundleSpec) -> str:
    """The `http` block's part: the rest of a relay request's URI as the browser sent it (still encoded, with its
    query), so that the upstream gets exactly that."""
    if not spec.relay_routes:
        return ""
    return f"""
    # /relay/<scheme>/<host>/<rest>: <rest> as the browser sent it, query included, for the relay routes below.
    map $request_uri $satchel_relay_rest {{
        "~^{RELAY_PREFIX}[^/]+/[^/]+(?<relay_rest>/.*)$" $relay_rest;
        default /;
    }}
"""


def nginx_relay_locations(spec: BundleSpec) -> str:
    """The `server` block's part: a location per route, and the relay's own error answers."""
    routes = spec.relay_routes
    if not routes:
        return ""
    resolver = ""
    if spec.resolvers:
        resolver = (
            f"        resolver {spec.nginx_resolvers} valid=60s;\n"
            f"        resolver_timeout {LIMITS.connect_s:g}s;\n"
        )
    errors = "".join(_nginx_error_location(spec, kind) for kind in ERRORS)
    return (
        "\n        # The relay to the origins of the policy's servers.origins (one location each, fixed upstreams).\n"
        + resolver
        + "".join(_nginx_route(spec, route) for route in routes)
        + errors
    )


def _nginx_security_headers(spec: BundleSpec, indent: str) -> str:
    return "".join(
        f"{indent}add_header {name} {quoted(value)} always;\n"
        for name, value in security_headers(spec.policy).items()
    )


def _nginx_route(spec: BundleSpec, route: RelayRoute) -> str:
    indent = "            "
    forwarded = "".join(
        f"{indent}proxy_set_header {name} $http_{name.replace('-', '_')};\n"
        for name in FORWARDED_REQUEST_HEADERS
    )
    hidden = "".join(
        f"{indent}proxy_hide_header {name};\n" for name in ("Set-Cookie", *security_headers(spec.policy))
    )
    tls = ""
    if route.scheme == "https":
        tls = (
            f"{indent}proxy_ssl_server_name on;\n{indent}proxy_ssl_name {route.hostname};\n"
            f"{indent}proxy_ssl_verify on;\n{indent}proxy_ssl_verify_depth 4;\n"
            f"{indent}proxy_ssl_trusted_certificate {CA_BUNDLE};\n"
        )
    return f"""
        location ^~ {route.path} {{
            if ($http_{RELAY_HEADER.lower().replace("-", "_")} != "1") {{
                return 403;
            }}
            error_page 403 = @satchel_relay_forbidden;
            error_page 413 = @satchel_relay_too_large;
            error_page 502 503 = @satchel_relay_unreachable;
            error_page 504 = @satchel_relay_timeout;
            # A failure's log line would carry the request line, and a query string may hold a token.
            error_log stderr crit;
            client_max_body_size {LIMITS.request_body_bytes // (1024 * 1024)}m;
            # The remote server's Content-Type as it sent it: no charset added.
            charset off;
            proxy_pass {route.origin}$satchel_relay_rest;
            proxy_http_version 1.1;
            proxy_pass_request_headers off;
            proxy_set_header Host {route.host};
            proxy_set_header Connection "";
            proxy_set_header User-Agent {USER_AGENT};
{forwarded}            proxy_redirect off;
            proxy_buffering off;
            proxy_cache off;
            proxy_connect_timeout {LIMITS.connect_s:g}s;
            proxy_send_timeout {LIMITS.headers_s:g}s;
            proxy_read_timeout {LIMITS.idle_s:g}s;
{tls}{hidden}{_nginx_security_headers(spec, indent)}{indent}add_header {TARGET_HEADER} {quoted(route.origin)} always;
        }}
"""


def _nginx_error_location(spec: BundleSpec, kind: ErrorKind) -> str:
    status, _message = ERRORS[kind]
    return f"""
        location @satchel_relay_{kind.replace("-", "_")} {{
            default_type application/json;
{_nginx_security_headers(spec, "            ")}            add_header {ERROR_HEADER} {kind} always;
            return {status} '{_error_body(kind)}\\n';
        }}
"""


def caddy_relay(spec: BundleSpec) -> str:
    """The Caddyfile's relay: checks in the order written (`route`), then one `handle` per origin."""
    routes = spec.relay_routes
    if not routes:
        return ""
    deleted = "".join(f"\t\t\t\theader_up -{name}\n" for name in BROWSER_REQUEST_HEADERS)
    hidden = "".join(f"\t\t\t\theader_down -{name}\n" for name in ("Set-Cookie", "Server", *SECURITY_HEADERS))
    length = "{http.request.header.Content-Length}"
    limit = LIMITS.request_body_bytes
    too_large = f'`{length}.matches("^[0-9]{{1,15}}$") && int({length}) > {limit}`'
    handles = "".join(
        f"""\t\t@relay_{index} path {route.path}*
\t\thandle @relay_{index} {{
\t\t\turi strip_prefix {route.path.rstrip("/")}
\t\t\treverse_proxy {route.origin} {{
\t\t\t\theader_up Host {{upstream_hostport}}
\t\t\t\theader_up User-Agent {USER_AGENT}
{deleted}{hidden}\t\t\t\theader_down {TARGET_HEADER} {quoted(route.origin)}
\t\t\t\tflush_interval -1
\t\t\t\ttransport http {{
\t\t\t\t\tdial_timeout {LIMITS.connect_s:g}s
\t\t\t\t\tresponse_header_timeout {LIMITS.headers_s:g}s
\t\t\t\t\tread_timeout {LIMITS.idle_s:g}s
\t\t\t\t}}
\t\t\t}}
\t\t}}
"""
        for index, route in enumerate(routes)
    )
    return f"""\t# The relay to the origins of the policy's servers.origins (fixed upstreams), checks first.
\troute {RELAY_PREFIX}* {{
\t\t@relay_forbidden not header {RELAY_HEADER} 1
{_caddy_error("relay_forbidden", "forbidden")}\t\t@relay_too_large expression {too_large}
{_caddy_error("relay_too_large", "too-large")}\t\trequest_body {{
\t\t\tmax_size {LIMITS.request_body_bytes}
\t\t}}
{handles}\t}}
"""


def _caddy_error(matcher: str, kind: ErrorKind, indent: str = "\t\t") -> str:
    status, _message = ERRORS[kind]
    return (
        f"{indent}header @{matcher} {ERROR_HEADER} {kind}\n"
        f"{indent}header @{matcher} Content-Type application/json\n"
        f"{indent}respond @{matcher} `{_error_body(kind)}` {status}\n"
    )


def caddy_relay_errors(spec: BundleSpec) -> str:
    """The relay's part of `handle_errors`: the proxy's own failures (an upstream's 502 is passed on as it is)."""
    if not spec.relay_routes:
        return ""
    failures: tuple[tuple[ErrorKind, str], ...] = (("unreachable", "502, 503"), ("timeout", "504"))
    parts = []
    for kind, statuses in failures:
        matcher = f"relay_{kind}"
        parts.append(
            f"\t\t@{matcher} {{\n\t\t\tpath {RELAY_PREFIX}*\n"
            f"\t\t\texpression `{{http.error.status_code}} in [{statuses}]`\n\t\t}}\n"
            + _caddy_error(matcher, kind)
        )
    return "\thandle_errors {\n" + "".join(parts) + "\t}\n"
