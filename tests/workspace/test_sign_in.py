"""Workspace sign-in against `satchel serve`'s real ASGI app (httpx, through Starlette's TestClient, which runs the
lifespan): the workspace is an OAuth 2.1 protected resource with its own authorization server; a device signs in
with the authorization code flow, PKCE S256 and the workspace's `resource`, through the real sign-in form; tokens
are bound to the workspace's URL; each user sees only their own notes; a revoked device gets 401."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.server.auth.routes import AUTHORIZATION_PATH
from starlette.testclient import TestClient

from satchel.policy import Policy
from satchel.server import ServeError, create_app
from satchel.workspace.accounts import AccountStore
from satchel.workspace.authorization import SIGN_IN_PATH
from satchel.workspace.grants import GrantStore
from tests.workspace.oauth_flow import (
    CALLBACK,
    ORIGIN,
    WORKSPACE_URL,
    authorize,
    call,
    code_from,
    exchange,
    form_of,
    open_sign_in,
    pkce,
    register,
    sign_in,
    submit,
    tool,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "workspace.db"
    accounts = AccountStore(path)
    accounts.add("alice", PASSWORD)
    accounts.add("bob", PASSWORD + " 2")
    accounts.close()
    return path


def site(tmp_path: Path, policy: Policy | None = None) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir(exist_ok=True)
    (dist / "index.html").write_text("<!doctype html><title>Satchel</title>")
    if policy is not None:
        (dist / "policy.json").write_bytes(policy.json_bytes())
    return dist


@pytest.fixture
def client(tmp_path: Path, db_path: Path) -> Iterator[TestClient]:
    app = create_app(site(tmp_path), db_path=db_path, workspace_url=ORIGIN, allowed_hosts=["127.0.0.1:8470"])
    with TestClient(app, base_url=ORIGIN) as test_client:
        yield test_client


def test_an_unauthenticated_request_gets_401_pointing_at_discoverable_metadata(client: TestClient) -> None:
    response = call(client, None, "tools/list")
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    metadata_url = f"{ORIGIN}/.well-known/oauth-protected-resource/mcp/workspace"
    assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge

    metadata = client.get(metadata_url).json()
    assert metadata["resource"] == WORKSPACE_URL
    assert metadata["scopes_supported"] == ["notes"]
    [issuer] = metadata["authorization_servers"]
    server = client.get("/.well-known/oauth-authorization-server").json()
    assert server["issuer"].rstrip("/") == issuer.rstrip("/") == ORIGIN
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["authorization_endpoint"] == f"{ORIGIN}/authorize"
    assert server["registration_endpoint"] == f"{ORIGIN}/register"


def test_a_bad_token_gets_401_too(client: TestClient) -> None:
    assert call(client, "not-a-token", "tools/list").status_code == 401


def test_a_device_signs_in_through_the_form_and_its_token_reaches_the_notes(client: TestClient) -> None:
    client_id = register(client, "Alice's phone")
    verifier, challenge = pkce()
    form = open_sign_in(client, client_id, challenge)
    assert "Alice&#x27;s phone" in form.text or "Alice's phone" in form.text
    assert "default-src 'none'" in form.response.headers["content-security-policy"]
    assert "<script" not in form.text
    assert f'<strong id="returns-to">{ORIGIN}</strong>' in form.text, "the page names where the code goes"

    wrong = form_of(submit(client, form, "alice", "wrong password"))
    assert wrong.response.status_code == 400
    assert "Wrong user name or password (4 tries left)" in wrong.text
    unknown = form_of(submit(client, wrong, "nobody", "wrong password"))
    assert "Wrong user name or password (3 tries left)" in unknown.text

    code = code_from(submit(client, unknown, "alice", PASSWORD))
    response = exchange(client, client_id, code, verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer" and tokens["scope"] == "notes"
    assert exchange(client, client_id, code, verifier).json()["error"] == "invalid_grant", (
        "a code is used once"
    )

    saved = tool(client, tokens["access_token"], "save_note", title="Signed in", body="from the phone")
    assert saved["created"] is True
    listed = tool(client, tokens["access_token"], "list_notes")
    assert [note["title"] for note in listed["notes"]] == ["Signed in"]


def test_a_wrong_verifier_or_a_forged_form_gets_nothing(client: TestClient) -> None:
    client_id = register(client)
    _, challenge = pkce()
    form = open_sign_in(client, client_id, challenge)
    forged = submit(client, form.__class__(form.response, form.request_id, "forged"), "alice", PASSWORD)
    assert forged.status_code == 403 and "not sent from its page" in forged.text
    client.cookies.clear()
    no_cookie = submit(client, form, "alice", PASSWORD)
    assert no_cookie.status_code == 403
    form = form_of(client.get(f"/workspace/sign-in?request={form.request_id}"))
    other_site = client.post(
        "/workspace/sign-in",
        data={"request": form.request_id, "csrf": form.csrf, "user": "alice", "password": PASSWORD},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    code = code_from(submit(client, form, "alice", PASSWORD))
    other_verifier, _ = pkce()
    assert exchange(client, client_id, code, other_verifier).json()["error"] == "invalid_grant"


def test_too_many_wrong_passwords_end_the_request(client: TestClient) -> None:
    form = open_sign_in(client, register(client), pkce()[1])
    for _ in range(4):
        form = form_of(submit(client, form, "alice", "wrong password"))
    last = submit(client, form, "alice", "wrong password")
    assert last.status_code == 400 and "Too many wrong passwords" in last.text
    again = submit(client, form, "alice", PASSWORD)
    assert again.status_code == 400 and "expired or is finished" in again.text


def test_a_name_that_failed_too_often_is_locked_out_for_a_while(client: TestClient) -> None:
    for _ in range(5):
        form = open_sign_in(client, register(client), pkce()[1])
        submit(client, form, "bob", "wrong password")
    form = open_sign_in(client, register(client), pkce()[1])
    locked = submit(client, form, "bob", PASSWORD + " 2")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text


def test_deny_sends_the_user_back_with_access_denied(client: TestClient) -> None:
    form = open_sign_in(client, register(client), pkce()[1])
    denied = submit(client, form, "", "", decision="deny")
    assert denied.status_code == 303
    assert denied.headers["location"].startswith(f"{CALLBACK}?error=access_denied")


def test_a_token_for_another_resource_is_refused(client: TestClient, db_path: Path) -> None:
    client_id = register(client)
    _, challenge = pkce()
    refused = authorize(client, client_id, challenge, resource="http://127.0.0.1:8470/mcp/other")
    assert refused.status_code == 302 and "error=invalid_target" in refused.headers["location"]

    verifier, challenge = pkce()
    form = open_sign_in(client, client_id, challenge)
    code = code_from(submit(client, form, "alice", PASSWORD))
    other = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": client_id,
    }
    other |= {"code_verifier": verifier, "resource": "https://elsewhere.example/mcp"}
    asked_elsewhere = client.post("/token", data=other)
    assert asked_elsewhere.status_code == 400 and asked_elsewhere.json()["error"] == "invalid_target"

    tokens = sign_in(client, "alice", PASSWORD)
    grants = GrantStore(db_path)
    try:
        # A token this server issued for another resource (as another server's token would be): refused.
        grants._db.execute("UPDATE oauth_grants SET resource = 'http://127.0.0.1:8470/mcp/other'")
    finally:
        grants.close()
    assert call(client, tokens["access_token"], "tools/list").status_code == 401


def test_one_user_cannot_list_read_search_or_delete_another_users_notes(client: TestClient) -> None:
    alice = sign_in(client, "alice", PASSWORD)["access_token"]
    bob = sign_in(client, "bob", PASSWORD + " 2")["access_token"]
    note = tool(client, alice, "save_note", title="Alice's plans", body="secret garden", key="k1")["note"]
    assert tool(client, bob, "list_notes")["notes"] == []
    assert tool(client, bob, "search_notes", query="garden")["hits"] == []
    assert tool(client, bob, "delete_note", note_id=note["id"]) == {"id": note["id"], "deleted": False}
    # The same idempotency key is Bob's own: it saves Bob's note, not a replay of Alice's.
    bobs = tool(client, bob, "save_note", title="Bob's", body="other", key="k1")
    assert bobs["created"] is True and bobs["note"]["id"] != note["id"]
    assert [hit["note"]["id"] for hit in tool(client, alice, "search_notes", query="garden")["hits"]] == [
        note["id"]
    ]


def test_a_refresh_rotates_the_tokens(client: TestClient) -> None:
    tokens = sign_in(client, "alice", PASSWORD)
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": tokens["client_id"],
    }
    fresh = client.post("/token", data=refresh)
    assert fresh.status_code == 200, fresh.text
    assert client.post("/token", data=refresh).json()["error"] == "invalid_grant", (
        "a refresh token is used once"
    )
    assert call(client, tokens["access_token"], "tools/list").status_code == 401
    assert call(client, fresh.json()["access_token"], "tools/list").status_code == 200


def test_a_revoked_device_gets_401_and_cannot_refresh(client: TestClient, db_path: Path) -> None:
    tokens = sign_in(client, "alice", PASSWORD, device="Kitchen tablet")
    assert call(client, tokens["access_token"], "tools/list").status_code == 200
    grants = GrantStore(db_path)
    try:
        [grant] = grants.grants()
        assert (grant.user, grant.client_name) == ("alice", "Kitchen tablet")
        assert grant.last_used_at is not None, "the request above used it"
        grants.revoke(grant.id)
    finally:
        grants.close()
    assert call(client, tokens["access_token"], "tools/list").status_code == 401
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": tokens["client_id"],
    }
    assert client.post("/token", data=refresh).json()["error"] == "invalid_grant"


def test_tokens_are_stored_hashed(client: TestClient, db_path: Path) -> None:
    tokens = sign_in(client, "alice", PASSWORD)
    raw = db_path.read_bytes() + (db_path.parent / (db_path.name + "-wal")).read_bytes()
    assert tokens["access_token"].encode() not in raw and tokens["refresh_token"].encode() not in raw
    assert PASSWORD.encode() not in raw


def test_the_policy_denies_a_tool_with_a_json_rpc_error_from_the_workspace(
    tmp_path: Path, db_path: Path
) -> None:
    policy = Policy(organization="Riverside", denied_tools=("io.satchel/workspace:delete_note",))
    app = create_app(
        site(tmp_path, policy), db_path=db_path, workspace_url=ORIGIN, allowed_hosts=["127.0.0.1:8470"]
    )
    with TestClient(app, base_url=ORIGIN) as client:
        token = sign_in(client, "alice", PASSWORD)["access_token"]
        denied = call(
            client, token, "tools/call", {"name": "delete_note", "arguments": {"note_id": 1}}
        ).json()
        assert denied["error"]["code"] == -32011
        assert "Riverside's policy does not allow the tool delete_note" in denied["error"]["message"]
        assert tool(client, token, "save_note", title="Allowed", body="yes")["created"] is True


def test_a_workspace_the_policy_does_not_list_refuses_every_tool(tmp_path: Path, db_path: Path) -> None:
    policy = Policy(organization="Riverside", allowed_servers=("io.satchel/tools",))
    app = create_app(
        site(tmp_path, policy), db_path=db_path, workspace_url=ORIGIN, allowed_hosts=["127.0.0.1:8470"]
    )
    with TestClient(app, base_url=ORIGIN) as client:
        token = sign_in(client, "alice", PASSWORD)["access_token"]
        denied = call(client, token, "tools/call", {"name": "list_notes", "arguments": {}}).json()
        assert denied["error"]["code"] == -32011
        assert "io.satchel/workspace" in denied["error"]["message"]


def test_an_anonymous_workspace_needs_no_token_and_uses_the_local_users_notes(
    tmp_path: Path, db_path: Path
) -> None:
    app = create_app(
        site(tmp_path), db_path=db_path, workspace_anonymous=True, allowed_hosts=["127.0.0.1:8470"]
    )
    with TestClient(app, base_url=ORIGIN) as client:
        assert tool(client, None, "save_note", title="Local", body="anonymous")["created"] is True
        assert client.get("/.well-known/oauth-authorization-server").status_code == 404
    with sqlite3.connect(db_path) as db:
        assert list(db.execute("SELECT user_id FROM notes")) == [(1,)]
    db.close()


def test_a_workspace_must_be_told_whether_it_is_anonymous(tmp_path: Path, db_path: Path) -> None:
    with pytest.raises(ServeError, match="public URL"):
        create_app(site(tmp_path), db_path=db_path)


def test_the_service_worker_leaves_the_sign_in_pages_to_the_server() -> None:
    """Navigations on the app's origin get the app's shell from the service worker, except these (app/sw/precache.js
    `SERVER_PAGES`): the authorization endpoint and the sign-in page, which only the server can answer."""
    module = (Path(__file__).resolve().parents[2] / "app" / "sw" / "precache.js").as_uri()
    script = "const m = await import(process.argv[1]); console.log(JSON.stringify(m.SERVER_PAGES));"
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, module], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [AUTHORIZATION_PATH, SIGN_IN_PATH]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource/mcp/workspace",
        "/workspace/sign-in?request=x",
        "/authorize",
    ],
)
def test_the_sign_in_endpoints_refuse_a_foreign_host_against_dns_rebinding(
    client: TestClient, path: str
) -> None:
    assert client.get(path, headers={"Host": "evil.example:8470"}).status_code == 421
    assert client.get(path).status_code != 421
