"""The workspace's OAuth 2.1 authorization server and resource-server settings, on the Python MCP SDK's auth support.

The SDK serves the protocol (`create_auth_routes`: `/.well-known/oauth-authorization-server`, `/authorize`, `/token`,
`/register`, `/revoke`; the protected resource metadata of RFC 9728; the bearer middleware that answers 401 with
`WWW-Authenticate: Bearer resource_metadata=...`); `WorkspaceAuthProvider` below makes its decisions over the
workspace's own records (satchel/workspace/grants.py): `/authorize` sends the user to the sign-in page
(satchel/workspace/sign_in.py), which issues the code; a code or token is only ever issued for the workspace's own
URL (RFC 8707 `resource`), and the bearer middleware refuses a token issued for any other (`validate_token_resource`).
The issuer is the site's origin as devices reach it (`satchel serve` derives it from `--host`/`--port`, or
`--public-url` behind a proxy), so it never changes with a request's Host header.
"""

from __future__ import annotations

import contextlib
import json
from urllib.parse import parse_qs, urlencode

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satchel.workspace.grants import GrantError, GrantStore

#: The one scope: read and write your own notes.
NOTES_SCOPE = "notes"
SIGN_IN_PATH = "/workspace/sign-in"
#: The largest `/token` request read to check its `resource` (a token request is a few hundred bytes).
MAX_TOKEN_REQUEST_BYTES = 64 * 1024


def same_resource(a: str, b: str) -> bool:
    """Whether two resource URLs name the same resource (as the SDK's bearer middleware compares them)."""
    try:
        return str(AnyHttpUrl(a)).removesuffix("/") == str(AnyHttpUrl(b)).removesuffix("/")
    except ValidationError:
        return False


def auth_settings(issuer_url: str, resource_url: str) -> AuthSettings:
    """The SDK's settings: this issuer, this resource, the `notes` scope, open registration, revocation, and
    tokens accepted only when issued for `resource_url`."""
    # Validated from strings, so the issuer keeps its exact form (no trailing slash), as RFC 8414 compares it.
    return AuthSettings.model_validate(
        {
            "issuer_url": issuer_url,
            "resource_server_url": resource_url,
            "required_scopes": [NOTES_SCOPE],
            "client_registration_options": ClientRegistrationOptions(
                enabled=True, valid_scopes=[NOTES_SCOPE], default_scopes=[NOTES_SCOPE]
            ),
            "revocation_options": RevocationOptions(enabled=True),
            "validate_token_resource": True,
        }
    )


class WorkspaceAuthProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """The authorization server's decisions over a `GrantStore`, for the one resource `resource_url`."""

    def __init__(self, grants: GrantStore, *, issuer_url: str, resource_url: str) -> None:
        self.grants = grants
        self.resource_url = resource_url
        self.sign_in_url = issuer_url.rstrip("/") + SIGN_IN_PATH

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.grants.client(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        try:
            self.grants.register_client(client_info)
        except GrantError as exc:
            raise RegistrationError("invalid_client_metadata", str(exc)) from exc

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and not same_resource(params.resource, self.resource_url):
            raise AuthorizeError("invalid_target", f"this server issues tokens for {self.resource_url} only")
        bound = params.model_copy(
            update={"resource": self.resource_url, "scopes": params.scopes or [NOTES_SCOPE]}
        )
        try:
            request_id = self.grants.open_request(client.client_id, bound)
        except GrantError as exc:
            raise AuthorizeError("temporarily_unavailable", str(exc)) from exc
        return f"{self.sign_in_url}?{urlencode({'request': request_id})}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        return self.grants.code(authorization_code, client.client_id)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        try:
            return self.grants.redeem_code(authorization_code, authorization_code.scopes)
        except GrantError as exc:
            raise TokenError("invalid_grant", str(exc)) from exc

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        return self.grants.refresh_token(refresh_token, client.client_id)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        try:
            return self.grants.rotate(refresh_token, scopes)
        except GrantError as exc:
            raise TokenError("invalid_grant", str(exc)) from exc

    async def load_access_token(self, token: str) -> AccessToken | None:
        return self.grants.access_token(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        grant = self.grants.grant_of(token.token)
        if grant is not None:
            with contextlib.suppress(GrantError):  # revoked meanwhile: nothing left to do
                self.grants.revoke(grant)


class TokenResourceCheck:
    """Around the SDK's `/token`: a request naming a `resource` other than the workspace's gets `invalid_target`
    (RFC 8707 §2), since the SDK does not hand the token request's `resource` to the provider. Every token this
    server issues is for the workspace's URL only; this makes a client that asks for another audience hear so."""

    def __init__(self, app: ASGIApp, resource_url: str) -> None:
        self.app = app
        self.resource_url = resource_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += bytes(message.get("body", b""))
            if len(body) > MAX_TOKEN_REQUEST_BYTES:
                await _json_error(
                    send,
                    413,
                    "invalid_request",
                    f"a token request is at most {MAX_TOKEN_REQUEST_BYTES} bytes",
                )
                return
            if not message.get("more_body", False):
                break
        requested = parse_qs(body.decode("utf-8", "replace")).get("resource", [])
        if any(not same_resource(resource, self.resource_url) for resource in requested):
            await _json_error(
                send, 400, "invalid_target", f"this server issues tokens for {self.resource_url} only"
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _json_error(send: Send, status: int, error: str, description: str) -> None:
    body = json.dumps({"error": error, "error_description": description}).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
