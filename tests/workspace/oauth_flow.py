"""Drive the workspace's sign-in as an OAuth client does, over HTTP against `satchel serve`'s real ASGI app: register
(RFC 7591), authorize with PKCE S256 and `resource` (RFC 8707), sign in on the server-rendered form, trade the
code for tokens; and send raw MCP requests with the token."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpx2 import Response
from starlette.testclient import TestClient

ORIGIN = "http://127.0.0.1:8470"
WORKSPACE_URL = f"{ORIGIN}/mcp/workspace"
CALLBACK = f"{ORIGIN}/oauth/callback.html"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


@dataclass
class SignInForm:
    """The sign-in page as served: its status, text and the hidden fields the form sends back."""

    response: Response
    request_id: str
    csrf: str

    @property
    def text(self) -> str:
        return self.response.text


def register(client: TestClient, name: str = "Test device") -> str:
    response = client.post(
        "/register",
        json={
            "client_name": name,
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize(
    client: TestClient, client_id: str, challenge: str, *, resource: str = WORKSPACE_URL
) -> Response:
    return client.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "the-state",
            "scope": "notes",
            "resource": resource,
        },
        follow_redirects=False,
    )


def form_of(response: Response) -> SignInForm:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', response.text))
    return SignInForm(response, unescape(fields.get("request", "")), unescape(fields.get("csrf", "")))


def open_sign_in(client: TestClient, client_id: str, challenge: str) -> SignInForm:
    redirect = authorize(client, client_id, challenge)
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(f"{ORIGIN}/workspace/sign-in?request="), location
    page = client.get(location)
    assert page.status_code == 200, page.text
    return form_of(page)


def submit(
    client: TestClient, form: SignInForm, user: str, password: str, decision: str = "allow"
) -> Response:
    return client.post(
        "/workspace/sign-in",
        data={
            "request": form.request_id,
            "csrf": form.csrf,
            "user": user,
            "password": password,
            "decision": decision,
        },
        follow_redirects=False,
    )


def code_from(redirect: Response) -> str:
    assert redirect.status_code == 303, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(CALLBACK), location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["the-state"]
    return query["code"][0]


def exchange(client: TestClient, client_id: str, code: str, verifier: str) -> Response:
    return client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": WORKSPACE_URL,
        },
    )


def sign_in(client: TestClient, user: str, password: str, device: str = "Test device") -> dict[str, Any]:
    """The whole flow; the token response."""
    client_id = register(client, device)
    verifier, challenge = pkce()
    form = open_sign_in(client, client_id, challenge)
    response = exchange(client, client_id, code_from(submit(client, form, user, password)), verifier)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = {**response.json(), "client_id": client_id}
    return tokens


def call(
    client: TestClient, token: str | None, method: str, params: dict[str, Any] | None = None
) -> Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return client.post("/mcp/workspace", json=body, headers=headers)


def tool(client: TestClient, token: str | None, name: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool; its structured result (the JSON-RPC error, if any, is asserted absent)."""
    response = call(client, token, "tools/call", {"name": name, "arguments": arguments})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "error" not in body, body
    assert not body["result"].get("isError"), body
    result: dict[str, Any] = body["result"]["structuredContent"]
    return result
