"""What a bundle is asked to be (`BundleSpec`) and where each part lives inside it.

The layout is fixed so that admins, KIOSK.md, the web-server configs and `satchel bundle verify` agree on it:
the site in `dist/`, models under `dist/models/`, web-server configs and the systemd unit in `server/`, browser
policies in `browser/`, and `VERSION`, `SHA256SUMS` (with `SHA256SUMS.sig` in a signed bundle), `policy.json` and
`KIOSK.md` at the top.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from satchel import __version__
from satchel.policy import Policy

DIST = "dist"
#: URL path prefixes of `satchel serve`'s own routes (workspace MCP server, registry API), proxied with --api-upstream.
API_PATHS = ("/mcp/", "/v0.1/")
#: URL path prefix of the relay routes: `/relay/<scheme>/<host[:port]>/...` goes to that origin of the policy's
#: `servers.origins` (the host as `new URL(url).host` writes it), the form `satchel serve`'s relay answers too.
RELAY_PREFIX = "/relay/"
MODELS_INDEX = "dist/models/models.json"
SUMS = "SHA256SUMS"
#: The Ed25519 signature of SHA256SUMS, in bundles made with --sign-key (`signing.py`); not listed in SHA256SUMS.
SUMS_SIGNATURE = "SHA256SUMS.sig"
VERSION_FILE = "VERSION"
POLICY = "policy.json"
KIOSK_DOC = "KIOSK.md"
NGINX_CONF = "server/nginx.conf"
CADDYFILE = "server/Caddyfile"
SYSTEMD_UNIT = "server/satchel.service"
#: Linux managed-policy files, laid out as they go under `/` (`sudo cp -r browser/linux/etc /`).
LINUX_POLICY_DIRS = {
    "Chromium": "etc/chromium/policies/managed",
    "Google Chrome": "etc/opt/chrome/policies/managed",
    "Microsoft Edge": "etc/opt/edge/policies/managed",
}
LINUX_POLICY_NAME = "satchel.json"
WINDOWS_REG = "browser/windows/satchel-policies.reg"
MACOS_PROFILE = "browser/macos/satchel.mobileconfig"
KIOSK_LAUNCHER = "browser/kiosk/satchel-kiosk.sh"

DEFAULT_URL = "http://localhost:8470/"
DEFAULT_LISTEN = "127.0.0.1:8470"
DEFAULT_INSTALL_DIR = PurePosixPath("/opt/satchel")
#: Without --release a bundle carries the toolchain's version: a bundle made by an older Satchel never replaces one
#: made by a newer one, and bundles made by the same Satchel are ordered by the --release their admins give them.
DEFAULT_RELEASE = __version__


#: A bundle's release: dotted numbers (`3`, `2026.11.25`, `1.4.2`), compared part by part. A device never replaces the
#: app it has with a bundle of a lower release (app/sw/precache.js).
RELEASE_PATTERN = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9}){0,5}$")


#: Characters that a URL never needs and that would have to be escaped differently in every generated file.
_UNSAFE_URL = re.compile(r"[\s\"'\\$`]")


def quoted(value: str) -> str:
    """`value` in double quotes, as both nginx and Caddy read it; BundleError for what neither can hold."""
    if '"' in value or "\n" in value:
        raise BundleError(f"a value cannot be quoted in a server config: {value!r}")
    return f'"{value}"'


class BundleError(Exception):
    """A bundle that cannot be made; the message says what is wrong and what to do."""


def linux_policy_paths() -> dict[str, str]:
    """Browser name → path of its policy file inside the bundle."""
    return {name: f"browser/linux/{folder}/{LINUX_POLICY_NAME}" for name, folder in LINUX_POLICY_DIRS.items()}


@dataclass(frozen=True)
class BundleSpec:
    """Everything that decides a bundle's bytes (besides the app sources and the models' files)."""

    policy: Policy
    #: The address browsers open; policies force-install this URL and allow its origin the microphone.
    url: str = DEFAULT_URL
    #: Where the device's own web server listens (`host:port`); the systemd unit serves the bundle there.
    listen: str = DEFAULT_LISTEN
    #: Where the bundle is unpacked on a device; the configs point there.
    install_dir: PurePosixPath = DEFAULT_INSTALL_DIR
    #: Catalogue ids of the models to pre-place.
    models: tuple[str, ...] = ()
    #: This bundle's release (see RELEASE_PATTERN); installed apps only ever move to a release at least as high.
    release: str = DEFAULT_RELEASE
    #: Base URL of a `satchel serve` (workspace and registry API) that the web servers proxy `/mcp/` and `/v0.1/`
    #: to; None: the bundle is served as a static site only.
    api_upstream: str | None = None
    #: DNS servers nginx asks for the relay routes' host names, when a request comes (a kiosk may start offline,
    #: and nginx would not start at all if it had to resolve them first); needed when an origin is a name.
    resolvers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if _UNSAFE_URL.search(self.url):
            raise BundleError(
                f"--url {self.url!r}: quotes, backslashes, $, ` and spaces cannot go into the configs"
            )
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BundleError(
                f"--url {self.url!r} is not an http(s) URL such as https://satchel.example.org/"
            )
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "[::1]", "::1"):
            raise BundleError(
                f"--url {self.url!r}: a PWA needs a secure context, so use https:// (or http://localhost)"
            )
        if parts.query or parts.fragment or not parts.path.endswith("/"):
            raise BundleError(f"--url {self.url!r} must be the app's folder URL, ending in / (no query)")
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BundleError(f"--listen {self.listen!r} must be host:port, e.g. {DEFAULT_LISTEN}")
        if not self.install_dir.is_absolute():
            raise BundleError(f"--install-dir {self.install_dir} must be an absolute path, e.g. /opt/satchel")
        if not RELEASE_PATTERN.match(self.release):
            raise BundleError(
                f"--release {self.release!r} must be dotted numbers such as 2026.11.25 or 3 (compared part by part)"
            )
        if self.api_upstream is not None:
            _check_upstream(self.api_upstream)
        for resolver in self.resolvers:
            try:
                ipaddress.ip_address(resolver.strip("[]"))
            except ValueError:
                raise BundleError(
                    f"--resolver {resolver!r} must be the IP address of a DNS server, e.g. 127.0.0.53"
                ) from None
        routes = self.relay_routes
        named = [route.hostname for route in routes if not route.is_ip_literal]
        if named and not self.resolvers:
            raise BundleError(
                f"the policy's servers.origins name hosts ({', '.join(named)}) that nginx must resolve when a "
                "request comes: give the DNS server it should ask, e.g. --resolver 127.0.0.53 (systemd-resolved) "
                "or your network's"
            )

    @property
    def relay_routes(self) -> tuple[RelayRoute, ...]:
        """One route per origin of the policy's `servers.origins` (none without that list)."""
        return tuple(RelayRoute(origin) for origin in self.policy.allowed_origins or ())

    @property
    def nginx_resolvers(self) -> str:
        """The resolvers as nginx's `resolver` directive writes them (IPv6 in brackets)."""
        shown = [f"[{r.strip('[]')}]" if ":" in r else r for r in self.resolvers]
        return " ".join(shown)

    @property
    def api_base(self) -> str | None:
        """`scheme://host:port` of the API upstream (no trailing slash: the servers pass request paths unchanged)."""
        if self.api_upstream is None:
            return None
        parts = urlsplit(self.api_upstream)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def release_parts(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.release.split("."))

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def local_url(self) -> str:
        """The URL of the device's own server (what the kiosk opens when the bundle is served on the device)."""
        host = self.listen.rpartition(":")[0]
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        return f"http://{shown}:{self.listen_port}/"


@dataclass(frozen=True)
class RelayRoute:
    """An origin of the policy's `servers.origins` (already in the browser's form, see satchel/policy.py) and where a
    bundle relays it: `/relay/<scheme>/<host[:port]>/`, the host and port as `new URL(url).host` writes them, so
    each origin has a path of its own."""

    origin: str

    @property
    def scheme(self) -> str:
        return urlsplit(self.origin).scheme

    @property
    def host(self) -> str:
        """`host[:port]` as in the origin (IPv6 in brackets, the port only when it is not the scheme's default)."""
        return urlsplit(self.origin).netloc

    @property
    def hostname(self) -> str:
        """The host without brackets or port: what TLS checks the certificate against."""
        return urlsplit(self.origin).hostname or ""

    @property
    def is_ip_literal(self) -> bool:
        try:
            ipaddress.ip_address(self.hostname)
        except ValueError:
            return False
        return True

    @property
    def path(self) -> str:
        return f"{RELAY_PREFIX}{self.scheme}/{self.host}/"


def _check_upstream(upstream: str) -> None:
    if _UNSAFE_URL.search(upstream) or any(c in upstream for c in ";{}#"):
        raise BundleError(
            f"--api-upstream {upstream!r}: quotes, ;, {{, }}, $ and spaces cannot go into the configs"
        )
    parts = urlsplit(upstream)
    try:
        port = parts.port
    except ValueError:
        port = None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or port is None
        or parts.path not in ("", "/")
        or parts.query
        or parts.username
    ):
        raise BundleError(
            f"--api-upstream {upstream!r} must be the base URL of a `satchel serve` with its port and no path, "
            "e.g. http://127.0.0.1:8471"
        )
