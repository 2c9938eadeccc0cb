"""The e2e tests' OAuth-protected MCP server (`tests/support/oauth_mcp_server.py`), driven over HTTP as a browser
client would: discovery, registration, consent, PKCE, tokens bound to a resource, refresh, idempotent saves, CORS."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oauth_mcp_server import IDEMPOTENCY_META_KEY, OAuthMcpServer

#: Where the app's sign-in callback would be: the tests read the redirect and never follow it.
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"
APP_ORIGIN = "http://127.0.0.1:9"
PROTOCOL = "2025-11-25"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": PROTOCOL,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OAuthMcpServer]:
    with OAuthMcpServer(tmp_path) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


@dataclass
class SignIn:
    client_id: str
    access_token: str
    refresh_token: str
    token_response: dict[str, Any]


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def register(http: httpx.Client, server: OAuthMcpServer, **metadata: Any) -> dict[str, Any]:
    """Dynamic client registration as a public browser client (RFC 7591)."""
    response = http.post(
        f"{server.url}/register",
        json={
            "client_name": "Satchel test",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "notes",
            **metadata,
        },
    )
    assert response.status_code == 201, response.text
    client: dict[str, Any] = response.json()
    return client


def authorize(
    http: httpx.Client,
    server: OAuthMcpServer,
    client_id: str,
    challenge: str,
    resource: str | None,
    state: str,
) -> str:
    """`GET /authorize`; returns the consent page's URL that it redirects to."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "notes",
        "state": state,
        **({"resource": resource} if resource is not None else {}),
    }
    response = http.get(f"{server.url}/authorize", params=params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{server.url}/consent?request=")
    return location


def answer_consent(http: httpx.Client, consent_url: str, decision: str) -> httpx.Response:
    """Press the consent page's Approve or Deny button (the form's POST)."""
    request_id = query_of(consent_url)["request"]
    return http.post(consent_url.split("?")[0], data={"request": request_id, "decision": decision})


def exchange_code(
    http: httpx.Client, server: OAuthMcpServer, client_id: str, code: str, verifier: str, resource: str | None
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
        **({"resource": resource} if resource is not None else {}),
    }
    return http.post(f"{server.url}/token", data=data)


def refresh(http: httpx.Client, server: OAuthMcpServer, client_id: str, refresh_token: str) -> httpx.Response:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "resource": server.mcp_url,
    }
    return http.post(f"{server.url}/token", data=data)


def sign_in(http: httpx.Client, server: OAuthMcpServer, resource: str | None = "") -> SignIn:
    """The whole flow: register, authorize, approve, exchange the code; `resource` defaults to the MCP URL."""
    resource = server.mcp_url if resource == "" else resource
    client_id = register(http, server)["client_id"]
    verifier, challenge = pkce_pair()
    consent_url = authorize(http, server, client_id, challenge, resource, state="s")
    code = query_of(answer_consent(http, consent_url, "approve").headers["location"])["code"]
    response = exchange_code(http, server, client_id, code, verifier, resource)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return SignIn(client_id, tokens["access_token"], tokens["refresh_token"], tokens)


def mcp_request(
    http: httpx.Client, server: OAuthMcpServer, token: str | None, method: str, params: dict[str, Any]
) -> httpx.Response:
    headers = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return http.post(server.mcp_url, json=message, headers=headers)


def initialize(http: httpx.Client, server: OAuthMcpServer, token: str | None) -> httpx.Response:
    params = {
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "httpx", "version": "0"},
    }
    return mcp_request(http, server, token, "initialize", params)


def call_tool(
    http: httpx.Client,
    server: OAuthMcpServer,
    token: str,
    name: str,
    arguments: dict[str, Any],
    key: str | None = None,
) -> dict[str, Any]:
    """`tools/call` with the token (and the idempotency key in `_meta`); returns the structured result."""
    params = {"name": name, "arguments": arguments, **({"_meta": {IDEMPOTENCY_META_KEY: key}} if key else {})}
    response = mcp_request(http, server, token, "tools/call", params)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert not result.get("isError"), result
    structured: dict[str, Any] = result["structuredContent"]
    return structured


def metadata_url(server: OAuthMcpServer) -> str:
    return f"{server.url}/.well-known/oauth-protected-resource/mcp"


def test_mcp_without_a_token_is_401_naming_the_resource_metadata(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    response = initialize(http, server, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{metadata_url(server)}"' in challenge


def test_protected_resource_and_authorization_server_metadata_are_discoverable(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    resource = http.get(metadata_url(server)).json()
    assert resource["resource"] == server.mcp_url
    assert resource["authorization_servers"] == [server.url]
    assert resource["scopes_supported"] == ["notes"]

    authorization = http.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert authorization["issuer"] == server.url
    assert authorization["authorization_endpoint"] == f"{server.url}/authorize"
    assert authorization["token_endpoint"] == f"{server.url}/token"
    assert authorization["registration_endpoint"] == f"{server.url}/register"
    assert authorization["code_challenge_methods_supported"] == ["S256"]
    assert authorization["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert authorization["scopes_supported"] == ["notes", "notes:write"]


def test_a_public_client_registers_dynamically(server: OAuthMcpServer, http: httpx.Client) -> None:
    client = register(http, server)
    assert client["client_id"]
    assert "client_secret" not in client
    assert client["redirect_uris"] == [REDIRECT_URI]
    refused = http.post(f"{server.url}/register", json={"redirect_uris": [REDIRECT_URI], "scope": "admin"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client_metadata"
    assert server.state()["registrations"] == 1


def test_approving_on_the_consent_page_redirects_with_a_code_and_the_state(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    client_id = register(http, server)["client_id"]
    consent_url = authorize(http, server, client_id, pkce_pair()[1], server.mcp_url, state="xyz-1")

    page = http.get(consent_url)
    assert page.status_code == 200
    assert "Satchel test" in page.text and "<li>notes</li>" in page.text and server.mcp_url in page.text
    assert '<button type="submit" name="decision" value="approve">Approve</button>' in page.text
    assert '<button type="submit" name="decision" value="deny">Deny</button>' in page.text
    assert "<script" not in page.text
    assert page.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"

    approved = answer_consent(http, consent_url, "approve")
    assert approved.status_code == 302
    location = approved.headers["location"]
    assert location.startswith(f"{REDIRECT_URI}?")
    assert query_of(location).keys() == {"code", "state"}
    assert query_of(location)["state"] == "xyz-1"
    assert server.state()["authorization_requests"] == [
        {
            "client_id": client_id,
            "scope": "notes",
            "resource": server.mcp_url,
            "code_challenge_method": "S256",
        }
    ]


def test_denying_on_the_consent_page_redirects_with_access_denied(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    client_id = register(http, server)["client_id"]
    consent_url = authorize(http, server, client_id, pkce_pair()[1], server.mcp_url, state="xyz-2")
    denied = answer_consent(http, consent_url, "deny")
    assert denied.status_code == 302
    query = query_of(denied.headers["location"])
    assert (query["error"], query["state"]) == ("access_denied", "xyz-2")
    assert "code" not in query
    assert answer_consent(http, consent_url, "approve").status_code == 404, "a request is answered once"
    assert http.get(consent_url).status_code == 404


def test_the_token_endpoint_checks_the_pkce_verifier_and_uses_a_code_once(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    client_id = register(http, server)["client_id"]
    verifier, challenge = pkce_pair()
    consent_url = authorize(http, server, client_id, challenge, server.mcp_url, state="s")
    code = query_of(answer_consent(http, consent_url, "approve").headers["location"])["code"]

    wrong = exchange_code(http, server, client_id, code, pkce_pair()[0], server.mcp_url)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "incorrect code_verifier"}

    right = exchange_code(http, server, client_id, code, verifier, server.mcp_url)
    assert right.status_code == 200, right.text
    tokens = right.json()
    assert tokens["token_type"] == "Bearer"
    assert (tokens["expires_in"], tokens["scope"]) == (3600, "notes")
    assert tokens["access_token"] and tokens["refresh_token"]

    again = exchange_code(http, server, client_id, code, verifier, server.mcp_url)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert [r["grant_type"] for r in server.state()["token_requests"]] == ["authorization_code"] * 3


def test_a_signed_in_client_initializes_and_calls_the_tools(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    token = sign_in(http, server).access_token
    initialized = initialize(http, server, token)
    assert initialized.status_code == 200, initialized.text
    assert initialized.json()["result"]["serverInfo"]["name"] == "oauth-notes"

    listed = mcp_request(http, server, token, "tools/list", {}).json()["result"]["tools"]
    annotations = {tool["name"]: tool["annotations"] for tool in listed}
    assert annotations["save_note"]["idempotentHint"] is True
    assert annotations["save_note"]["readOnlyHint"] is False
    assert annotations["list_notes"]["readOnlyHint"] is True

    saved = call_tool(http, server, token, "save_note", {"title": "Plan", "body": "ship it"}, key="k-1")
    assert saved == {"note": {"title": "Plan", "body": "ship it", "key": "k-1"}, "created": True}
    assert call_tool(http, server, token, "list_notes", {}) == {"notes": [saved["note"]]}


def test_the_same_idempotency_key_saves_one_note_and_counts_every_delivery(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    token = sign_in(http, server).access_token
    note = {"title": "Offline thought", "body": "written on the train"}
    first = call_tool(http, server, token, "save_note", note, key="queue-entry-1")
    replay = call_tool(http, server, token, "save_note", note, key="queue-entry-1")
    unkeyed = call_tool(http, server, token, "save_note", note)
    assert (first["created"], replay["created"], unkeyed["created"]) == (True, False, True)
    state = server.state()
    assert state["notes"] == [{**note, "key": "queue-entry-1"}, {**note, "key": None}]
    assert state["deliveries"] == {"queue-entry-1": 2}


def test_concurrent_deliveries_of_one_key_save_one_note(server: OAuthMcpServer, http: httpx.Client) -> None:
    token = sign_in(http, server).access_token
    note = {"title": "Replayed", "body": "by two flushes at once"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: call_tool(http, server, token, "save_note", note, key="k-race"), range(8))
        )
    assert sorted(result["created"] for result in results) == [False] * 7 + [True]
    state = server.state()
    assert (len(state["notes"]), state["deliveries"]) == (1, {"k-race": 8})


def test_after_the_tokens_expire_the_client_must_refresh(server: OAuthMcpServer, http: httpx.Client) -> None:
    signed_in = sign_in(http, server)
    call_tool(http, server, signed_in.access_token, "save_note", {"title": "a", "body": "b"}, key="k-a")

    assert server.expire_tokens() == 1
    refused = initialize(http, server, signed_in.access_token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert f'resource_metadata="{metadata_url(server)}"' in refused.headers["www-authenticate"]

    refreshed = refresh(http, server, signed_in.client_id, signed_in.refresh_token)
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    assert tokens["refresh_token"] != signed_in.refresh_token, "refresh tokens rotate"
    call_tool(http, server, tokens["access_token"], "save_note", {"title": "a", "body": "b"}, key="k-a")

    reused = refresh(http, server, signed_in.client_id, signed_in.refresh_token)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    state = server.state()
    assert [(r["grant_type"], r["resource"]) for r in state["token_requests"]] == [
        ("authorization_code", server.mcp_url),
        ("refresh_token", server.mcp_url),
        ("refresh_token", server.mcp_url),
    ]
    assert state["deliveries"] == {"k-a": 2} and len(state["notes"]) == 1


@pytest.mark.parametrize(
    "resource", ["http://127.0.0.1:1/mcp", None], ids=["another-resource", "no-resource"]
)
def test_a_token_not_issued_for_this_mcp_url_is_refused(
    server: OAuthMcpServer, http: httpx.Client, resource: str | None
) -> None:
    token = sign_in(http, server, resource=resource).access_token
    response = initialize(http, server, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_request_must_name_the_resource_that_was_authorized(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    client_id = register(http, server)["client_id"]
    verifier, challenge = pkce_pair()
    consent_url = authorize(http, server, client_id, challenge, server.mcp_url, state="s")
    code = query_of(answer_consent(http, consent_url, "approve").headers["location"])["code"]
    response = exchange_code(http, server, client_id, code, verifier, "http://127.0.0.1:1/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_cors_lets_pages_of_other_origins_use_mcp_and_the_metadata(
    server: OAuthMcpServer, http: httpx.Client
) -> None:
    preflight = http.options(
        server.mcp_url,
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,mcp-protocol-version,mcp-session-id",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
    } <= allowed

    refused = http.post(server.mcp_url, json={}, headers={**MCP_HEADERS, "Origin": APP_ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"
    assert refused.headers["access-control-expose-headers"] == "Mcp-Session-Id, WWW-Authenticate"

    for url in (metadata_url(server), f"{server.url}/.well-known/oauth-authorization-server"):
        response = http.get(url, headers={"Origin": APP_ORIGIN})
        assert response.headers["access-control-allow-origin"] == "*", url
    token_preflight = http.options(
        f"{server.url}/token", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert token_preflight.headers["access-control-allow-origin"] == "*"


def test_no_cors_sends_no_cors_header_anywhere(tmp_path: Path, http: httpx.Client) -> None:
    with OAuthMcpServer(tmp_path, cors=False) as server:
        preflight = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
        responses = [
            http.options(
                server.mcp_url, headers={**preflight, "Access-Control-Request-Headers": "authorization"}
            ),
            http.post(server.mcp_url, json={}, headers={**MCP_HEADERS, "Origin": APP_ORIGIN}),
            http.get(metadata_url(server), headers={"Origin": APP_ORIGIN}),
            http.get(f"{server.url}/.well-known/oauth-authorization-server", headers={"Origin": APP_ORIGIN}),
            http.options(f"{server.url}/token", headers=preflight),
            http.options(f"{server.url}/register", headers=preflight),
        ]
    for response in responses:
        cors_headers = [name for name in response.headers if name.lower().startswith("access-control-")]
        assert cors_headers == [], (response.request.method, response.request.url)


def test_a_restart_keeps_clients_tokens_and_notes(tmp_path: Path, http: httpx.Client) -> None:
    server = OAuthMcpServer(tmp_path, token_lifetime_s=120)
    with server:
        signed_in = sign_in(http, server)
        call_tool(http, server, signed_in.access_token, "save_note", {"title": "t", "body": "b"}, key="k")
    assert signed_in.token_response["expires_in"] == 120
    with server:
        again = call_tool(
            http, server, signed_in.access_token, "save_note", {"title": "t", "body": "b"}, key="k"
        )
        assert again["created"] is False
        assert refresh(http, server, signed_in.client_id, signed_in.refresh_token).status_code == 200
        state = server.state()
    assert state["deliveries"] == {"k": 2}
    assert state["registrations"] == 1
