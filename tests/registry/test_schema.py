"""The server.json rules (schema 2025-12-11) accept what the official examples accept and refuse the rest."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from satchel.registry.schema import (
    SCHEMA_URL,
    ServerJsonError,
    server_json_problems,
    server_list_problems,
    server_response_problems,
    validate_server_json,
)

MINIMAL: dict[str, Any] = {
    "$schema": SCHEMA_URL,
    "name": "io.github.user/weather",
    "description": "MCP server providing weather data and forecasts via OpenWeatherMap API",
    "version": "1.0.2",
}
WITH_PACKAGE: dict[str, Any] = {
    **MINIMAL,
    "title": "Weather",
    "repository": {"url": "https://github.com/user/weather", "source": "github", "subfolder": "src"},
    "websiteUrl": "https://example.com/weather",
    "icons": [{"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48", "any"]}],
    "packages": [
        {
            "registryType": "mcpb",
            "identifier": "https://github.com/user/weather/releases/download/v1.0.2/weather.mcpb",
            "fileSha256": "fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce",
            "transport": {"type": "stdio"},
            "packageArguments": [
                {"type": "positional", "valueHint": "city"},
                {"type": "named", "name": "--units", "choices": ["metric", "imperial"]},
            ],
            "environmentVariables": [{"name": "API_KEY", "isSecret": True, "isRequired": True}],
        }
    ],
}
WITH_REMOTE: dict[str, Any] = {
    **MINIMAL,
    "remotes": [
        {
            "type": "streamable-http",
            "url": "https://{tenant}.example.com/mcp",
            "headers": [{"name": "Authorization", "isSecret": True}],
            "variables": {"tenant": {"description": "Your tenant", "isRequired": True}},
        },
        {"type": "sse", "url": "https://example.com/sse"},
    ],
    "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"tool": "publisher-cli"}},
}


def changed(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `doc` with the value at a slash path replaced (or removed when value is ...)."""
    result = copy.deepcopy(doc)
    *parents, last = path.strip("/").split("/")
    target: Any = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return result


@pytest.mark.parametrize("doc", [MINIMAL, WITH_PACKAGE, WITH_REMOTE], ids=["minimal", "package", "remote"])
def test_valid_documents_have_no_problems(doc: dict[str, Any]) -> None:
    assert server_json_problems(doc) == []
    validate_server_json(doc)


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (changed(MINIMAL, "name", ...), "/name: is required"),
        (changed(MINIMAL, "name", "weather"), "/name: must match"),
        (changed(MINIMAL, "name", "io.github/user/weather"), "/name: must match"),
        (changed(MINIMAL, "name", "a/" + "b" * 199), "/name: must be 3 to 200"),
        (changed(MINIMAL, "description", "x" * 101), "/description: must be 1 to 100"),
        (changed(MINIMAL, "description", ""), "/description: must be 1 to 100"),
        (changed(MINIMAL, "title", ""), "/title: must be 1 to 100"),
        (changed(MINIMAL, "version", ...), "/version: is required"),
        (changed(MINIMAL, "version", "^1.2.3"), "/version: must be one specific version"),
        (changed(MINIMAL, "version", "1.x"), "/version: must be one specific version"),
        (changed(MINIMAL, "version", "latest"), "/version: must be one specific version"),
        (changed(MINIMAL, "version", "1" * 256), "/version: must be at most 255"),
        (changed(MINIMAL, "version", 1), "/version: must be a string"),
        (changed(MINIMAL, "websiteUrl", "example.com"), "/websiteUrl: must be an absolute URI"),
        (changed(WITH_PACKAGE, "repository/source", ...), "/repository/source: is required"),
        (changed(WITH_PACKAGE, "icons/0/sizes/0", "big"), "/icons/0/sizes/0: must look like"),
        (changed(WITH_PACKAGE, "icons/0/mimeType", "image/gif"), "/icons/0/mimeType: must be one of"),
        (changed(WITH_PACKAGE, "packages/0/version", "latest"), "/packages/0/version: must be one specific"),
        (changed(WITH_PACKAGE, "packages/0/fileSha256", "FE" * 32), "/packages/0/fileSha256: must match"),
        (changed(WITH_PACKAGE, "packages/0/transport", ...), "/packages/0/transport: is required"),
        (changed(WITH_PACKAGE, "packages/0/transport/type", "pipe"), "/packages/0/transport/type: must be"),
        (
            changed(WITH_PACKAGE, "packages/0/packageArguments/0", {"type": "positional"}),
            "/packages/0/packageArguments/0: a positional argument needs",
        ),
        (
            changed(WITH_PACKAGE, "packages/0/environmentVariables/0/name", ...),
            "/packages/0/environmentVariables/0/name: is required",
        ),
        (changed(WITH_REMOTE, "remotes/1/type", "stdio"), "/remotes/1/type: must be one of"),
        (changed(WITH_REMOTE, "remotes/1/url", "/mcp/workspace"), "/remotes/1/url: must match"),
        (changed(WITH_REMOTE, "remotes/1/url", "{base}/sse"), "/remotes/1/url: must match"),
        (
            changed(WITH_REMOTE, "remotes/0/variables/tenant/format", "date"),
            "/variables/tenant/format: must be",
        ),
        (changed(WITH_REMOTE, "_meta", []), "/_meta: must be an object"),
    ],
)
def test_rule_breaking_documents_are_refused_with_the_path(doc: dict[str, Any], where: str) -> None:
    problems = server_json_problems(doc)
    assert any(where in problem for problem in problems), problems
    with pytest.raises(ServerJsonError) as raised:
        validate_server_json(doc, "weather")
    assert raised.value.problems == problems
    assert str(raised.value).startswith("weather is not valid server.json: ")


def test_every_problem_is_reported_at_once() -> None:
    doc = {"name": "bad", "description": "", "version": "*"}
    assert len(server_json_problems(doc)) == 3


def test_server_response_meta_is_checked() -> None:
    official = {"status": "active", "publishedAt": "2025-01-01T10:30:00Z", "isLatest": True}
    entry = {"server": MINIMAL, "_meta": {"io.modelcontextprotocol.registry/official": official}}
    assert server_response_problems(entry) == []
    bad = copy.deepcopy(entry)
    bad["_meta"]["io.modelcontextprotocol.registry/official"].update(
        status="gone", updatedAt="yesterday", isLatest="yes", extra=1
    )
    problems = server_response_problems(bad, "/servers/0")
    assert sorted(p.rsplit("/", 1)[-1].split(":")[0] for p in problems) == [
        "extra",
        "isLatest",
        "status",
        "updatedAt",
    ]
    assert all(p.startswith("/servers/0/_meta/") for p in problems)


def test_server_list_needs_a_servers_array() -> None:
    assert server_list_problems({"servers": [], "metadata": {"count": 0}}) == []
    assert server_list_problems({"metadata": {}}) == ["/servers: is required and must be an array"]
    assert server_list_problems({"servers": [], "metadata": {"count": "3"}}) == [
        "/metadata/count: must be an integer"
    ]
