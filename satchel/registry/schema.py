"""The server.json rules (schema 2025-12-11) and the registry API shapes, written as checks we can run.

The rules are taken from the official registry's `docs/reference/api/openapi.yaml` and the generated
`server.schema.json` (modelcontextprotocol/registry): patterns, length limits, enums and required fields. The
2025-12-11 release differs from the later draft only in that a transport URL must start with `http://` or
`https://` (the draft also accepts a leading `{variable}`), so that is the pattern used here. Where the schema
only *describes* a rule that the registry enforces at publish time (no version ranges, no `latest`), the check
is marked as such. Each check returns problems as `path: message` strings, so a caller can report all of them
at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official"
PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided"

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
NAME_LENGTH = (3, 200)
DESCRIPTION_LENGTH = (1, 100)
TITLE_LENGTH = (1, 100)
VERSION_MAX_LENGTH = 255
SHA256_PATTERN = re.compile(r"^[a-f0-9]{64}$")
TRANSPORT_URL_PATTERN = re.compile(r"^https?://[^\s]+$")
ICON_SIZE_PATTERN = re.compile(r"^(\d+x\d+|any)$")
ICON_SRC_MAX_LENGTH = 255
ICON_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/svg+xml", "image/webp"})
ICON_THEMES = frozenset({"light", "dark"})
INPUT_FORMATS = frozenset({"string", "number", "boolean", "filepath"})
REMOTE_TYPES = frozenset({"streamable-http", "sse"})
PACKAGE_TRANSPORT_TYPES = frozenset({"stdio", "streamable-http", "sse"})
STATUSES = frozenset({"active", "deprecated", "deleted"})
STATUS_MESSAGE_MAX_LENGTH = 500
OFFICIAL_META_FIELDS = frozenset(
    {"status", "statusMessage", "statusChangedAt", "publishedAt", "updatedAt", "isLatest"}
)
# Publish-time rule (described in the schema, enforced by the registry): one specific version, never a range.
_VERSION_RANGE = re.compile(r"[\^~<>=*|\s]|(^|\.)[xX](\.|$)")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
# RFC 3339 date-time as JSON Schema's `format: date-time` means it.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

Problems = list[str]


class ServerJsonError(ValueError):
    """A server.json document (or registry response) breaks the schema rules; `problems` lists every one."""

    def __init__(self, what: str, problems: Problems) -> None:
        super().__init__(f"{what} is not valid server.json: " + "; ".join(problems))
        self.problems = problems


def server_json_problems(doc: object) -> Problems:
    """Every way `doc` breaks the 2025-12-11 server.json rules (empty when it is valid)."""
    if not isinstance(doc, Mapping):
        return ["/: must be an object"]
    problems: Problems = []
    for field in ("name", "description", "version"):
        if field not in doc:
            problems.append(f"/{field}: is required")
    _string(doc, "name", problems, pattern=NAME_PATTERN, length=NAME_LENGTH)
    _string(doc, "description", problems, length=DESCRIPTION_LENGTH)
    _string(doc, "title", problems, length=TITLE_LENGTH)
    if "version" in doc:
        problems.extend(version_problems(doc["version"], "/version"))
    _string(doc, "websiteUrl", problems, uri=True)
    _string(doc, "$schema", problems, uri=True)
    if "repository" in doc:
        problems.extend(_repository_problems(doc["repository"], "/repository"))
    for index, icon in _array(doc, "icons", problems):
        problems.extend(_icon_problems(icon, f"/icons/{index}"))
    for index, package in _array(doc, "packages", problems):
        problems.extend(_package_problems(package, f"/packages/{index}"))
    for index, remote in _array(doc, "remotes", problems):
        problems.extend(_transport_problems(remote, f"/remotes/{index}", REMOTE_TYPES, remote=True))
    if "_meta" in doc:
        meta = doc["_meta"]
        if not isinstance(meta, Mapping):
            problems.append("/_meta: must be an object")
        elif PUBLISHER_META_KEY in meta and not isinstance(meta[PUBLISHER_META_KEY], Mapping):
            problems.append(f"/_meta/{PUBLISHER_META_KEY}: must be an object")
    return problems


def validate_server_json(doc: object, what: str = "server.json") -> None:
    """Raise `ServerJsonError` listing every problem when `doc` is not a valid server.json document."""
    problems = server_json_problems(doc)
    if problems:
        raise ServerJsonError(what, problems)


def version_problems(version: object, path: str) -> Problems:
    """A server version: a string of at most 255 characters naming one specific version."""
    if not isinstance(version, str):
        return [f"{path}: must be a string"]
    if not version:
        return [f"{path}: must not be empty"]
    if len(version) > VERSION_MAX_LENGTH:
        return [f"{path}: must be at most {VERSION_MAX_LENGTH} characters"]
    if version == "latest" or _VERSION_RANGE.search(version):
        return [f"{path}: must be one specific version, not a range or 'latest' ({version!r})"]
    return []


def server_response_problems(entry: object, path: str = "") -> Problems:
    """A `ServerResponse` of the registry API: `{server: <server.json>, _meta: {<official>: {...}}}`."""
    if not isinstance(entry, Mapping):
        return [f"{path}/: must be an object"]
    if "server" not in entry:
        return [f"{path}/server: is required"]
    problems = [f"{path}/server{p}" for p in server_json_problems(entry["server"])]
    meta = entry.get("_meta")
    if meta is None:
        return problems
    if not isinstance(meta, Mapping):
        return [*problems, f"{path}/_meta: must be an object"]
    official = meta.get(OFFICIAL_META_KEY)
    if official is None:
        return problems
    where = f"{path}/_meta/{OFFICIAL_META_KEY}"
    if not isinstance(official, Mapping):
        return [*problems, f"{where}: must be an object"]
    problems.extend(f"{where}/{key}: is not allowed" for key in official if key not in OFFICIAL_META_FIELDS)
    if "status" in official and official["status"] not in STATUSES:
        problems.append(f"{where}/status: must be one of {sorted(STATUSES)}")
    _string(official, "statusMessage", problems, length=(0, STATUS_MESSAGE_MAX_LENGTH), prefix=where)
    for field in ("statusChangedAt", "publishedAt", "updatedAt"):
        _string(official, field, problems, pattern=_DATE_TIME, prefix=where)
    if "isLatest" in official and not isinstance(official["isLatest"], bool):
        problems.append(f"{where}/isLatest: must be a boolean")
    return problems


def server_list_problems(body: object) -> Problems:
    """A `ServerList` of the registry API: `{servers: [ServerResponse...], metadata: {nextCursor, count}}`."""
    if not isinstance(body, Mapping):
        return ["/: must be an object"]
    servers = body.get("servers")
    if not isinstance(servers, list):
        return ["/servers: is required and must be an array"]
    problems: Problems = []
    for index, entry in enumerate(servers):
        problems.extend(server_response_problems(entry, f"/servers/{index}"))
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            problems.append("/metadata: must be an object")
        else:
            _string(metadata, "nextCursor", problems, prefix="/metadata")
            count = metadata.get("count")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                problems.append("/metadata/count: must be an integer")
    return problems


def _repository_problems(repo: object, path: str) -> Problems:
    if not isinstance(repo, Mapping):
        return [f"{path}: must be an object"]
    problems = [f"{path}/{field}: is required" for field in ("url", "source") if field not in repo]
    _string(repo, "url", problems, uri=True, prefix=path)
    for field in ("source", "id", "subfolder"):
        _string(repo, field, problems, prefix=path)
    return problems


def _icon_problems(icon: object, path: str) -> Problems:
    if not isinstance(icon, Mapping):
        return [f"{path}: must be an object"]
    problems = [] if "src" in icon else [f"{path}/src: is required"]
    _string(icon, "src", problems, uri=True, length=(0, ICON_SRC_MAX_LENGTH), prefix=path)
    _string(icon, "mimeType", problems, choices=ICON_MIME_TYPES, prefix=path)
    _string(icon, "theme", problems, choices=ICON_THEMES, prefix=path)
    for index, size in _array(icon, "sizes", problems, prefix=path):
        if not isinstance(size, str) or not ICON_SIZE_PATTERN.match(size):
            problems.append(f"{path}/sizes/{index}: must look like '48x48' or 'any'")
    return problems


def _package_problems(package: object, path: str) -> Problems:
    if not isinstance(package, Mapping):
        return [f"{path}: must be an object"]
    required = ("registryType", "identifier", "transport")
    problems = [f"{path}/{field}: is required" for field in required if field not in package]
    for field in ("registryType", "identifier", "runtimeHint"):
        _string(package, field, problems, prefix=path)
    _string(package, "registryBaseUrl", problems, uri=True, prefix=path)
    _string(package, "fileSha256", problems, pattern=SHA256_PATTERN, prefix=path)
    if "version" in package:
        problems.extend(version_problems(package["version"], f"{path}/version"))
    if "transport" in package:
        problems.extend(
            _transport_problems(package["transport"], f"{path}/transport", PACKAGE_TRANSPORT_TYPES)
        )
    for field in ("runtimeArguments", "packageArguments"):
        for index, argument in _array(package, field, problems, prefix=path):
            problems.extend(_argument_problems(argument, f"{path}/{field}/{index}"))
    for index, variable in _array(package, "environmentVariables", problems, prefix=path):
        problems.extend(_key_value_problems(variable, f"{path}/environmentVariables/{index}"))
    return problems


def _transport_problems(
    transport: object, path: str, types: frozenset[str], *, remote: bool = False
) -> Problems:
    if not isinstance(transport, Mapping):
        return [f"{path}: must be an object"]
    kind = transport.get("type")
    if kind not in types:
        return [f"{path}/type: must be one of {sorted(types)}"]
    problems: Problems = []
    if kind != "stdio":
        if "url" not in transport:
            problems.append(f"{path}/url: is required")
        _string(transport, "url", problems, pattern=TRANSPORT_URL_PATTERN, prefix=path)
        for index, header in _array(transport, "headers", problems, prefix=path):
            problems.extend(_key_value_problems(header, f"{path}/headers/{index}"))
    if remote and "variables" in transport:
        variables = transport["variables"]
        if not isinstance(variables, Mapping):
            problems.append(f"{path}/variables: must be an object")
        else:
            for name, variable in variables.items():
                problems.extend(_input_problems(variable, f"{path}/variables/{name}"))
    return problems


def _input_problems(value: object, path: str) -> Problems:
    if not isinstance(value, Mapping):
        return [f"{path}: must be an object"]
    problems: Problems = []
    for field in ("description", "value", "default", "placeholder"):
        _string(value, field, problems, prefix=path)
    _string(value, "format", problems, choices=INPUT_FORMATS, prefix=path)
    for field in ("isRequired", "isSecret"):
        if field in value and not isinstance(value[field], bool):
            problems.append(f"{path}/{field}: must be a boolean")
    for index, choice in _array(value, "choices", problems, prefix=path):
        if not isinstance(choice, str):
            problems.append(f"{path}/choices/{index}: must be a string")
    return problems


def _input_with_variables_problems(value: object, path: str) -> Problems:
    problems = _input_problems(value, path)
    if isinstance(value, Mapping) and "variables" in value:
        variables = value["variables"]
        if not isinstance(variables, Mapping):
            problems.append(f"{path}/variables: must be an object")
        else:
            for name, variable in variables.items():
                problems.extend(_input_problems(variable, f"{path}/variables/{name}"))
    return problems


def _key_value_problems(value: object, path: str) -> Problems:
    problems = _input_with_variables_problems(value, path)
    if isinstance(value, Mapping):
        if "name" not in value:
            problems.append(f"{path}/name: is required")
        _string(value, "name", problems, prefix=path)
    return problems


def _argument_problems(argument: object, path: str) -> Problems:
    problems = _input_with_variables_problems(argument, path)
    if not isinstance(argument, Mapping):
        return problems
    kind = argument.get("type")
    if kind == "positional":
        if "valueHint" not in argument and "value" not in argument:
            problems.append(f"{path}: a positional argument needs 'valueHint' or 'value'")
        _string(argument, "valueHint", problems, prefix=path)
    elif kind == "named":
        if "name" not in argument:
            problems.append(f"{path}/name: is required")
        _string(argument, "name", problems, prefix=path)
    else:
        problems.append(f"{path}/type: must be 'positional' or 'named'")
    if "isRepeated" in argument and not isinstance(argument["isRepeated"], bool):
        problems.append(f"{path}/isRepeated: must be a boolean")
    return problems


def _string(
    obj: Mapping[str, Any],
    field: str,
    problems: Problems,
    *,
    pattern: re.Pattern[str] | None = None,
    length: tuple[int, int] | None = None,
    choices: frozenset[str] | None = None,
    uri: bool = False,
    prefix: str = "",
) -> None:
    """Check an optional string field; a required one is also checked for presence by the caller."""
    if field not in obj:
        return
    value = obj[field]
    where = f"{prefix}/{field}"
    if not isinstance(value, str):
        problems.append(f"{where}: must be a string")
        return
    if length is not None and not length[0] <= len(value) <= length[1]:
        problems.append(f"{where}: must be {length[0]} to {length[1]} characters long (is {len(value)})")
    if pattern is not None and not pattern.match(value):
        problems.append(f"{where}: must match {pattern.pattern}")
    if choices is not None and value not in choices:
        problems.append(f"{where}: must be one of {sorted(choices)}")
    if uri and not _URI.match(value):
        problems.append(f"{where}: must be an absolute URI")


def _array(
    obj: Mapping[str, Any], field: str, problems: Problems, *, prefix: str = ""
) -> list[tuple[int, object]]:
    """The items of an optional array field, with a problem recorded when it is not an array."""
    if field not in obj:
        return []
    value = obj[field]
    if not isinstance(value, list):
        problems.append(f"{prefix}/{field}: must be an array")
        return []
    return list(enumerate(value))
