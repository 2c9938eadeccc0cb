"""An organisation's managed policy: read from TOML, checked precisely, written as the site's `/policy.json`.

Admins write the policy as TOML (`satchel build|bundle --policy policy.toml`); the browser enforces the JSON form
documented in `docs/architecture.md` ("Managed policy"). Both forms are checked by one walk over one description of
the fields, so an error names the key as the reader wrote it (`tools.always_ask[1]` in TOML, `tools.alwaysAsk[1]`
in JSON) and `satchel bundle verify` applies exactly the rules `satchel build` did.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from satchel.registry.schema import NAME_LENGTH, NAME_PATTERN

POLICY_VERSION = 1
#: Where the site serves the policy (a file of the site, precached like every other one).
POLICY_PATH = "policy.json"
#: MCP tool names (spec 2025-11-25): 1 to 128 characters from this set, case-sensitive.
TOOL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

Style = Literal["toml", "json"]
_Kind = Literal["version", "text", "bool", "servers", "tools", "origins"]

#: The policy's fields in their JSON spelling; a table maps to its own fields. TOML spells each key in snake_case.
_FIELDS: Mapping[str, _Kind | Mapping[str, _Kind]] = {
    "version": "version",
    "organization": "text",
    "servers": {"allow": "servers", "origins": "origins", "userAdded": "bool"},
    "upstreamRegistries": "bool",
    "tools": {"deny": "tools", "alwaysAsk": "tools"},
    "sync": {"remoteAllowed": "bool", "redactBeforeSync": "bool"},
}
#: Keys a document must carry; everything else has the default below.
_REQUIRED: Mapping[Style, frozenset[str]] = {
    "toml": frozenset({"organization"}),
    "json": frozenset({"version", "organization"}),
}


class PolicyError(ValueError):
    """A policy that must not be shipped or enforced; the message names the file, the key and what is expected."""


@dataclass(frozen=True)
class Policy:
    """A checked policy. `allowed_servers` is None when the policy does not restrict servers, `allowed_origins` None
    when it does not restrict the origins that remote servers (and the CSP's connect-src) may use."""

    organization: str
    allowed_servers: tuple[str, ...] | None = None
    allowed_origins: tuple[str, ...] | None = None
    user_servers_allowed: bool = True
    upstream_registries: bool = False
    denied_tools: tuple[str, ...] = ()
    always_ask_tools: tuple[str, ...] = ()
    remote_allowed: bool = True
    redact_before_sync: bool = False

    def to_json(self) -> dict[str, Any]:
        """The documented `policy.json` document (version 1); every key is present except an unset `servers.allow`
        or `servers.origins` (absent: not restricted)."""
        doc: dict[str, Any] = {"version": POLICY_VERSION, "organization": self.organization}
        servers: dict[str, Any] = {}
        if self.allowed_servers is not None:
            servers["allow"] = list(self.allowed_servers)
        if self.allowed_origins is not None:
            servers["origins"] = list(self.allowed_origins)
        servers["userAdded"] = self.user_servers_allowed
        doc["servers"] = servers
        doc["upstreamRegistries"] = self.upstream_registries
        doc["tools"] = {"deny": list(self.denied_tools), "alwaysAsk": list(self.always_ask_tools)}
        doc["sync"] = {"remoteAllowed": self.remote_allowed, "redactBeforeSync": self.redact_before_sync}
        return doc

    def json_bytes(self) -> bytes:
        """`policy.json` as shipped: stable key order and formatting, so the same policy gives the same bytes."""
        return (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode()


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


class _Walk:
    """One document being checked, in one spelling; collects the values under their JSON names."""

    def __init__(self, source: str, style: Style) -> None:
        self.source = source
        self.style = style
        self.spell: Callable[[str], str] = snake_case if style == "toml" else (lambda name: name)

    def fail(self, path: str, message: str) -> PolicyError:
        return PolicyError(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")

    def table(
        self, value: object, fields: Mapping[str, _Kind | Mapping[str, _Kind]], path: str
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, got {_describe(value)}")
        by_spelling = {self.spell(name): name for name in fields}
        for key in value:
            if key not in by_spelling:
                raise self.fail(_join(path, str(key)), self.unknown_key(str(key), by_spelling))
        if not path:
            for name in sorted(_REQUIRED[self.style]):
                if self.spell(name) not in value:
                    raise self.fail(self.spell(name), "is required")
        checked: dict[str, Any] = {}
        for spelled, name in by_spelling.items():
            if spelled not in value:
                continue
            kind = fields[name]
            where = _join(path, spelled)
            if isinstance(kind, Mapping):
                checked[name] = self.table(value[spelled], kind, where)
            else:
                checked[name] = self.value(value[spelled], kind, where)
        return checked

    def unknown_key(self, key: str, by_spelling: Mapping[str, str]) -> str:
        # A TOML author who wrote the JSON spelling (alwaysAsk) is pointed to the TOML one (always_ask).
        candidates = {**by_spelling, **{name: name for name in by_spelling.values()}}
        close = difflib.get_close_matches(key, candidates, n=1)
        hint = f" (did you mean {self.spell(candidates[close[0]])!r}?)" if close else ""
        return f"unknown key{hint}; allowed here: {', '.join(by_spelling)}"

    def value(self, value: object, kind: _Kind, path: str) -> object:
        if kind == "version":
            if value != POLICY_VERSION or isinstance(value, bool):
                raise self.fail(path, f"must be {POLICY_VERSION} (the only format), got {_describe(value)}")
            return value
        if kind == "text":
            if not isinstance(value, str) or not value.strip():
                raise self.fail(path, f"must be a non-empty string, got {_describe(value)}")
            return value.strip()
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(path, f"must be true or false, got {_describe(value)}")
            return value
        return self.names(value, kind, path)

    def names(
        self, value: object, kind: Literal["servers", "tools", "origins"], path: str
    ) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list of strings, got {_describe(value)}")
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, str):
                raise self.fail(where, f"must be a string, got {_describe(item)}")
            problem = _NAME_PROBLEMS[kind](item)
            if problem:
                raise self.fail(where, f"{item!r} {problem}")
            if item in seen:
                raise self.fail(where, f"{item!r} is listed twice")
            seen.add(item)
        return tuple(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_KIND_NAMES: Mapping[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
}


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    return f"{_KIND_NAMES.get(type(value), type(value).__name__)} ({value!r})"


def _server_name_problem(name: str) -> str | None:
    low, high = NAME_LENGTH
    if not NAME_PATTERN.match(name) or not low <= len(name) <= high:
        return "is not a registry server name (reverse-DNS namespace/name, e.g. 'io.satchel/tools')"
    return None


def _tool_ref_problem(ref: str) -> str | None:
    server, sep, tool = ref.rpartition(":")
    if not sep:
        return "is not a tool reference: write 'server:tool', e.g. 'io.satchel/workspace:delete_note'"
    if _server_name_problem(server):
        return f"names the server {server!r}, which is not a registry server name (e.g. 'io.satchel/tools')"
    if not TOOL_NAME_PATTERN.match(tool):
        return f"names the tool {tool!r}, which is not an MCP tool name (1-128 of A-Z a-z 0-9 _ - .)"
    return None


def _origin_problem(origin: str) -> str | None:
    """Why `origin` is not an origin in the form the browser writes it (`new URL(url).origin`: lowercase, default
    port left out), which is how the app compares a server's URL with the list; None when it is one."""
    example = "write an origin such as 'https://mcp.example.org' or 'http://192.168.1.20:8080'"
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return f"is not an origin: {example}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"is not an http or https origin: {example}"
    if parts.username is not None or parts.password is not None:
        return f"carries credentials: {example}"
    if port == 0:
        return "names port 0: give the port the server listens on"
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # A name whose last label is a number is an IPv4 address to a browser (`010.1.1.1`, `0x7f.1`), never a name.
        if not _HOSTNAME.match(host) or len(host) > 253 or _NUMERIC_LABEL.match(host.rpartition(".")[2]):
            return f"names the host {host!r}, which is not a DNS name or IP address"
        shown_host = host
    else:
        shown_host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    default_port = {"http": 80, "https": 443}[parts.scheme]
    canonical = f"{parts.scheme}://{shown_host}" + (f":{port}" if port not in (None, default_port) else "")
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return f"has a path, query or fragment: an origin is scheme://host[:port], here {canonical!r}"
    if origin != canonical:
        return f"is not written the way browsers write origins: write {canonical!r}"
    return None


#: A DNS name as it appears in an origin: lowercase labels of letters, digits and hyphens (IDNs in punycode).
_HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")

_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")

_NAME_PROBLEMS: Mapping[str, Callable[[str], str | None]] = {
    "servers": _server_name_problem,
    "tools": _tool_ref_problem,
    "origins": _origin_problem,
}


def _policy(checked: dict[str, Any], walk: _Walk) -> Policy:
    servers = checked.get("servers", {})
    tools = checked.get("tools", {})
    sync = checked.get("sync", {})
    allowed: tuple[str, ...] | None = servers.get("allow")
    denied: tuple[str, ...] = tools.get("deny", ())
    always_ask: tuple[str, ...] = tools.get("alwaysAsk", ())
    for key, refs in (("deny", denied), ("alwaysAsk", always_ask)):
        for index, ref in enumerate(refs):
            server = ref.rpartition(":")[0]
            if allowed is not None and server not in allowed:
                raise walk.fail(
                    f"tools.{walk.spell(key)}[{index}]",
                    f"{ref!r} names the server {server!r}, which {walk.spell('servers')}.allow does not list",
                )
    both = sorted(set(denied) & set(always_ask))
    if both:
        raise walk.fail(
            "tools",
            f"{', '.join(map(repr, both))} is both denied and always-ask: a denied tool is never called, "
            f"remove it from {walk.spell('alwaysAsk')}",
        )
    return Policy(
        organization=checked["organization"],
        allowed_servers=allowed,
        allowed_origins=servers.get("origins"),
        # A policy that lists the servers that exist means a closed list unless it says users may add their own.
        user_servers_allowed=servers.get("userAdded", allowed is None),
        upstream_registries=checked.get("upstreamRegistries", False),
        denied_tools=denied,
        always_ask_tools=always_ask,
        remote_allowed=sync.get("remoteAllowed", True),
        redact_before_sync=sync.get("redactBeforeSync", False),
    )


def parse_policy_toml(text: str, source: str = "policy") -> Policy:
    """Check a TOML policy (snake_case keys) and return it; raise PolicyError naming the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    walk = _Walk(source, "toml")
    return _policy(walk.table(data, _FIELDS, ""), walk)


def parse_policy_json(data: bytes, source: str = POLICY_PATH) -> Policy:
    """Check a `policy.json` document (the browser's form) and return it; raise PolicyError on any problem."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PolicyError(f"{source}: not valid JSON: {exc}") from exc
    walk = _Walk(source, "json")
    return _policy(walk.table(doc, _FIELDS, ""), walk)


def load_policy(path: Path) -> Policy:
    """Read and check a TOML policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the policy {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse_policy_toml(text, str(path))
