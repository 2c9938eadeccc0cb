"""The managed policy: TOML in, the documented `policy.json` out, and an error that names the key for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.build import build_app
from satchel.cli import main
from satchel.policy import Policy, PolicyError, load_policy, parse_policy_json, parse_policy_toml
from tests.conftest import NODE_MODULES

RIVERSIDE = """
organization = "Riverside Clinic"
upstream_registries = false

[servers]
allow = ["io.satchel/tools", "io.satchel/workspace"]
origins = ["https://mcp.riverside.example", "http://192.168.1.20:8080"]
user_added = false

[tools]
deny = ["io.satchel/workspace:delete_note"]
always_ask = ["io.satchel/workspace:save_note"]

[sync]
remote_allowed = true
redact_before_sync = true
"""


def test_toml_policy_becomes_the_documented_policy_json() -> None:
    # The example of docs/architecture.md, "Managed policy", key for key and in the same order.
    assert parse_policy_toml(RIVERSIDE).to_json() == {
        "version": 1,
        "organization": "Riverside Clinic",
        "servers": {
            "allow": ["io.satchel/tools", "io.satchel/workspace"],
            "origins": ["https://mcp.riverside.example", "http://192.168.1.20:8080"],
            "userAdded": False,
        },
        "upstreamRegistries": False,
        "tools": {
            "deny": ["io.satchel/workspace:delete_note"],
            "alwaysAsk": ["io.satchel/workspace:save_note"],
        },
        "sync": {"remoteAllowed": True, "redactBeforeSync": True},
    }


def test_minimal_policy_spells_out_every_default_and_leaves_servers_unrestricted() -> None:
    doc = parse_policy_toml('organization = "Bank"').to_json()
    assert doc == {
        "version": 1,
        "organization": "Bank",
        "servers": {"userAdded": True},
        "upstreamRegistries": False,
        "tools": {"deny": [], "alwaysAsk": []},
        "sync": {"remoteAllowed": True, "redactBeforeSync": False},
    }


def test_server_origins_and_user_added_servers_are_on_the_policy() -> None:
    policy = parse_policy_toml(RIVERSIDE)
    assert policy.allowed_origins == ("https://mcp.riverside.example", "http://192.168.1.20:8080")
    assert policy.user_servers_allowed is False
    unrestricted = parse_policy_toml('organization = "A"')
    assert (unrestricted.allowed_origins, unrestricted.user_servers_allowed) == (None, True)
    # A policy that lists the servers that exist is a closed list unless it lets users add their own.
    listed = parse_policy_toml('organization = "A"\n[servers]\nallow = ["io.satchel/tools"]')
    assert listed.user_servers_allowed is False
    opened = parse_policy_toml(
        'organization = "A"\n[servers]\nallow = ["io.satchel/tools"]\nuser_added = true'
    )
    assert opened.user_servers_allowed is True
    # An empty list is a restriction too: no origin but the app's own.
    assert parse_policy_toml('organization = "A"\n[servers]\norigins = []').allowed_origins == ()


@pytest.mark.parametrize(
    "origin",
    [
        "https://mcp.example.org",
        "http://192.168.1.20:8080",
        "http://[fd00::1]:8080",
        "https://xn--bcher-kva.example",
    ],
)
def test_origins_in_the_form_browsers_write_them_are_accepted(origin: str) -> None:
    toml = f'organization = "A"\n[servers]\norigins = ["{origin}"]'
    assert parse_policy_toml(toml).allowed_origins == (origin,)


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        (
            '"https://mcp.example.org"',
            "policy: servers.origins: must be a list of strings, got a string ('https://mcp.example.org')",
        ),
        ("[443]", "policy: servers.origins[0]: must be a string, got an integer (443)"),
        (
            '["https://mcp.example.org/mcp"]',
            "policy: servers.origins[0]: 'https://mcp.example.org/mcp' has a path, query or fragment: an origin is "
            "scheme://host[:port], here 'https://mcp.example.org'",
        ),
        (
            '["https://mcp.example.org/"]',
            "policy: servers.origins[0]: 'https://mcp.example.org/' has a path, query or fragment",
        ),
        (
            '["ftp://files.example.org"]',
            "policy: servers.origins[0]: 'ftp://files.example.org' is not an http or https origin: write an origin "
            "such as 'https://mcp.example.org' or 'http://192.168.1.20:8080'",
        ),
        (
            '["mcp.example.org"]',
            "policy: servers.origins[0]: 'mcp.example.org' is not an http or https origin",
        ),
        (
            '["https://MCP.example.org:443"]',
            "policy: servers.origins[0]: 'https://MCP.example.org:443' is not written the way browsers write "
            "origins: write 'https://mcp.example.org'",
        ),
        ('["https://*.example.org"]', "policy: servers.origins[0]: 'https://*.example.org' names the host"),
        ('["http://010.1.1.1"]', "names the host '010.1.1.1', which is not a DNS name or IP address"),
        ('["https://user@mcp.example.org"]', "carries credentials"),
        ('["https://mcp.example.org:0"]', "names port 0"),
        ('["https://mcp.example.org:99999"]', "'https://mcp.example.org:99999' is not an origin"),
        (
            '["https://a.example", "https://a.example"]',
            "policy: servers.origins[1]: 'https://a.example' is listed twice",
        ),
    ],
)
def test_bad_server_origins_name_the_entry_and_the_form_expected(origins: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy_toml(f'organization = "A"\n[servers]\norigins = {origins}')
    assert message in str(caught.value)


def test_user_added_must_be_a_boolean_in_either_spelling() -> None:
    with pytest.raises(
        PolicyError, match=r"^policy: servers.user_added: must be true or false, got a string"
    ):
        parse_policy_toml('organization = "A"\n[servers]\nuser_added = "no"')
    with pytest.raises(
        PolicyError, match=r"^policy.json: servers.userAdded: must be true or false, got an integer"
    ):
        parse_policy_json(b'{"version": 1, "organization": "A", "servers": {"userAdded": 0}}')
    with pytest.raises(PolicyError, match=r"servers.userAdded: unknown key \(did you mean 'user_added'\?\)"):
        parse_policy_toml('organization = "A"\n[servers]\nuserAdded = false')


def test_policy_json_round_trips_to_the_same_bytes() -> None:
    policy = parse_policy_toml(RIVERSIDE)
    assert parse_policy_json(policy.json_bytes()) == policy
    assert policy.json_bytes() == parse_policy_toml(RIVERSIDE).json_bytes()
    assert policy.json_bytes().endswith(b"}\n")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("", "policy: organization: is required"),
        ('organization = ""', "policy: organization: must be a non-empty string, got a string ('')"),
        ("organization = 3", "policy: organization: must be a non-empty string, got an integer (3)"),
        (
            'organization = "A"\nversion = 2',
            "policy: version: must be 1 (the only format), got an integer (2)",
        ),
        (
            'organization = "A"\norganisation = "B"',
            "policy: organisation: unknown key (did you mean 'organization'?); allowed here: version, "
            "organization, servers, upstream_registries, tools, sync",
        ),
        (
            'organization = "A"\n[tools]\nalwaysAsk = []',
            "policy: tools.alwaysAsk: unknown key (did you mean 'always_ask'?); allowed here: deny, always_ask",
        ),
        (
            'organization = "A"\nupstream_registries = "no"',
            "policy: upstream_registries: must be true or false, got a string ('no')",
        ),
        ('organization = "A"\nservers = ["x/y"]', "policy: servers: must be a table, got a list (['x/y'])"),
        (
            'organization = "A"\n[servers]\nallow = "io.satchel/tools"',
            "policy: servers.allow: must be a list of strings, got a string ('io.satchel/tools')",
        ),
        (
            'organization = "A"\n[servers]\nallow = ["io.satchel/tools", "tools"]',
            "policy: servers.allow[1]: 'tools' is not a registry server name (reverse-DNS namespace/name, "
            "e.g. 'io.satchel/tools')",
        ),
        (
            'organization = "A"\n[servers]\nallow = ["io.satchel/tools", "io.satchel/tools"]',
            "policy: servers.allow[1]: 'io.satchel/tools' is listed twice",
        ),
        (
            'organization = "A"\n[servers]\norigin = []',
            "policy: servers.origin: unknown key (did you mean 'origins'?); allowed here: allow, origins, "
            "user_added",
        ),
        (
            'organization = "A"\n[tools]\ndeny = ["delete_note"]',
            "policy: tools.deny[0]: 'delete_note' is not a tool reference: write 'server:tool', "
            "e.g. 'io.satchel/workspace:delete_note'",
        ),
        (
            'organization = "A"\n[tools]\ndeny = ["workspace:delete_note"]',
            "policy: tools.deny[0]: 'workspace:delete_note' names the server 'workspace', which is not a registry "
            "server name (e.g. 'io.satchel/tools')",
        ),
        (
            'organization = "A"\n[tools]\ndeny = ["io.satchel/workspace:delete note"]',
            "policy: tools.deny[0]: 'io.satchel/workspace:delete note' names the tool 'delete note', which is not "
            "an MCP tool name (1-128 of A-Z a-z 0-9 _ - .)",
        ),
        (
            'organization = "A"\n[tools]\ndeny = [1]',
            "policy: tools.deny[0]: must be a string, got an integer (1)",
        ),
        (
            'organization = "A"\n[servers]\nallow = ["io.satchel/tools"]\n[tools]\n'
            'always_ask = ["io.satchel/workspace:save_note"]',
            "policy: tools.always_ask[0]: 'io.satchel/workspace:save_note' names the server "
            "'io.satchel/workspace', which servers.allow does not list",
        ),
        (
            'organization = "A"\n[tools]\ndeny = ["a.b/c:t"]\nalways_ask = ["a.b/c:t"]',
            "policy: tools: 'a.b/c:t' is both denied and always-ask: a denied tool is never called, "
            "remove it from always_ask",
        ),
        (
            'organization = "A"\n[sync]\nremote_allowed = 0',
            "policy: sync.remote_allowed: must be true or false",
        ),
        ("organization = ", "policy: not valid TOML: "),
    ],
)
def test_bad_toml_policy_names_the_key_and_what_is_expected(toml: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy_toml(toml)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b'{"organization": "A"}', "policy.json: version: is required"),
        (b'{"version": true, "organization": "A"}', "policy.json: version: must be 1"),
        (
            b'{"version": 1, "organization": "A", "tools": {"always_ask": []}}',
            "policy.json: tools.always_ask: unknown key (did you mean 'alwaysAsk'?)",
        ),
        (b'{"version": 1, "organization": "A",', "policy.json: not valid JSON"),
        (b"[]", "policy.json: must be a table, got a list ([])"),
        (b"\xff", "policy.json: not valid JSON"),
    ],
)
def test_malformed_policy_json_is_refused(doc: bytes, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy_json(doc)
    assert str(caught.value).startswith(message)


def test_load_policy_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"cannot read the policy .*nope\.toml: No such file or directory"):
        load_policy(tmp_path / "nope.toml")


def _probe_managed(app: Path) -> None:
    # Templates must see `managed` whatever the build: a probe template renders it.
    (app / "managed-probe.txt.j2").write_text("managed={{ managed }}\n")


def test_managed_build_ships_policy_json_and_tells_the_templates(app_copy: Path, tmp_path: Path) -> None:
    _probe_managed(app_copy)
    policy = parse_policy_toml(RIVERSIDE)
    build_app(app_copy, tmp_path / "dist", node_modules=NODE_MODULES, policy=policy)
    dist = tmp_path / "dist"
    assert (dist / "policy.json").read_bytes() == policy.json_bytes()
    assert (dist / "managed-probe.txt").read_text() == "managed=True\n"
    assert '"/policy.json"' in (dist / "sw.js").read_text()  # precached like every file of the site


def test_unmanaged_build_has_no_policy_json(app_copy: Path, tmp_path: Path) -> None:
    _probe_managed(app_copy)
    build_app(app_copy, tmp_path / "dist", node_modules=NODE_MODULES)
    assert not (tmp_path / "dist" / "policy.json").exists()
    assert (tmp_path / "dist" / "managed-probe.txt").read_text() == "managed=False\n"


def test_cli_build_with_policy(app_copy: Path, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(RIVERSIDE)
    args = [
        "build",
        "--app",
        str(app_copy),
        "--out",
        str(tmp_path / "d"),
        "--node-modules",
        str(NODE_MODULES),
    ]
    result = CliRunner().invoke(main, [*args, "--policy", str(policy_file)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d" / "policy.json").read_bytes())["organization"] == "Riverside Clinic"


def test_cli_build_with_bad_policy_fails_with_one_line(app_copy: Path, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('organization = "A"\n[tools]\ndeny = ["oops"]\n')
    result = CliRunner().invoke(
        main, ["build", "--app", str(app_copy), "--out", str(tmp_path / "d"), "--policy", str(policy_file)]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {policy_file}: tools.deny[0]: 'oops' is not a tool reference: write 'server:tool', "
        "e.g. 'io.satchel/workspace:delete_note'"
    ]
    assert not (tmp_path / "d").exists()


def test_policy_dataclass_defaults_match_an_empty_policy() -> None:
    assert parse_policy_toml('organization = "A"') == Policy(organization="A")
