"""Satchel's OAuth client identity: `satchel serve` publishes a Client ID Metadata Document whose client_id is its own
URL (or where the operator says it is published), with the same metadata the app sends when it registers itself
(`clientMetadata()` in app/common/oauth.js)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from satchel.oauth_client import CLIENT_METADATA_PATH, client_metadata, client_metadata_route

REPO = Path(__file__).resolve().parents[1]


def browser_metadata(origin: str) -> dict[str, Any]:
    script = "const m = await import(process.argv[1]); console.log(JSON.stringify(m.clientMetadata(process.argv[2])));"
    module = (REPO / "app" / "common" / "oauth.js").as_uri()
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, module, origin],
        capture_output=True,
        text=True,
        check=True,
    )
    metadata: dict[str, Any] = json.loads(done.stdout)
    return metadata


@pytest.mark.parametrize("origin", ["https://satchel.example.org", "http://127.0.0.1:8470"])
def test_the_app_and_the_server_describe_the_same_client(origin: str) -> None:
    assert browser_metadata(origin) == client_metadata(origin)


def test_the_document_names_its_own_url_as_the_client_id() -> None:
    client = TestClient(Starlette(routes=[client_metadata_route()]), base_url="https://satchel.example.org")
    response = client.get(CLIENT_METADATA_PATH)
    assert response.status_code == 200
    document = response.json()
    assert document["client_id"] == f"https://satchel.example.org{CLIENT_METADATA_PATH}"
    assert document["redirect_uris"] == ["https://satchel.example.org/oauth/callback.html"]
    assert document["token_endpoint_auth_method"] == "none"


def test_an_operator_names_where_the_document_is_published() -> None:
    published = "https://apps.example.org/satchel/oauth/client-metadata.json"
    client = TestClient(Starlette(routes=[client_metadata_route(published)]), base_url="http://10.0.0.5:8470")
    document = client.get(CLIENT_METADATA_PATH).json()
    assert document["client_id"] == published
    assert document["client_uri"] == "https://apps.example.org"


def test_the_cli_refuses_a_client_id_that_is_not_a_document_url(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from satchel.cli import main

    result = CliRunner().invoke(main, ["serve", "--dist", str(tmp_path), "--oauth-client-id", "satchel"])
    assert result.exit_code == 2
    assert "is not where a document is published" in result.output
