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
        "servers": {"allow": ["io.satchel/tools", "io.satchel/workspace"]},
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
        "upstreamRegistries": False,
        "tools": {"deny": [], "alwaysAsk": []},
        "sync": {"remoteAllowed": True, "redactBeforeSync": False},
    }


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
