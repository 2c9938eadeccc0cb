"""What the workspace's OAuth authorization server remembers, in the workspace's SQLite file.

Registered clients (RFC 7591), sign-in requests waiting on the sign-in page, authorization codes (single use, five
minutes), and grants: one sign-in of one user on one device (client) for one resource, with its current access token
(an hour) and refresh token (rotated on every use; thirty days). Only the sha256 of a code, token or request id is
stored, so a copy of the file signs nobody in. Revoking a grant (`satchel workspace tokens revoke ID`, or the client's
own `/revoke`) deletes its tokens at once: the next request with them gets a 401.

Every method is a short transaction on this store's own connection; the server and the CLI may use the file at the
same time.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass

from mcp.server.auth.provider import AccessToken, AuthorizationCode, AuthorizationParams, RefreshToken
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from satchel.workspace.notes import WorkspaceFile, _transaction

ACCESS_TOKEN_LIFETIME_S = 3600
REFRESH_TOKEN_LIFETIME_S = 30 * 24 * 3600
CODE_LIFETIME_S = 300
#: How long the sign-in page waits for the user (then the app must start again).
REQUEST_LIFETIME_S = 600
#: Wrong passwords one sign-in request takes before it is dropped.
MAX_SIGN_IN_ATTEMPTS = 5
#: Registered clients kept at most; past it, the oldest that never signed in make room (registration is open).
MAX_CLIENTS = 1000
#: Sign-in requests waiting at most (anyone may start one).
MAX_PENDING_REQUESTS = 1000
#: How often a grant's "last used" is written at most (not on every request).
LAST_USED_RESOLUTION_S = 60


class GrantError(ValueError):
    """A request about grants that cannot be done; the message says why."""


@dataclass(frozen=True)
class PendingRequest:
    """An authorization request waiting on the sign-in page."""

    client_id: str
    params: AuthorizationParams
    csrf_sha256: str
    attempts: int


@dataclass(frozen=True)
class Grant:
    """One device's sign-in, as `satchel workspace tokens list` shows it (never a token)."""

    id: int
    user: str
    client_id: str
    client_name: str | None
    resource: str
    scopes: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    expires_at: int


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GrantStore(WorkspaceFile):
    """Clients, sign-in requests, codes, grants and tokens of one workspace file. Safe to share between threads."""

    # Clients (RFC 7591)

    def client(self, client_id: str) -> OAuthClientInformationFull | None:
        with self._lock:
            row = self._db.execute(
                "SELECT information FROM oauth_clients WHERE client_id = ?", (client_id,)
            ).fetchone()
        return None if row is None else OAuthClientInformationFull.model_validate_json(row["information"])

    def register_client(self, client: OAuthClientInformationFull) -> None:
        """Keep a registered client; past MAX_CLIENTS, the oldest clients that have no grant make room."""
        now = int(time.time())
        with self._lock, _transaction(self._db):
            count = int(self._db.execute("SELECT COUNT(*) FROM oauth_clients").fetchone()[0])
            if count >= MAX_CLIENTS:
                self._db.execute(
                    "DELETE FROM oauth_clients WHERE client_id IN (SELECT client_id FROM oauth_clients c"
                    " WHERE NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.client_id)"
                    " ORDER BY created_at LIMIT ?)",
                    (count - MAX_CLIENTS + 1,),
                )
                if int(self._db.execute("SELECT COUNT(*) FROM oauth_clients").fetchone()[0]) >= MAX_CLIENTS:
                    raise GrantError(f"this workspace already has {MAX_CLIENTS} signed-in clients")
            self._db.execute(
                "INSERT INTO oauth_clients (client_id, client_name, information, created_at) VALUES (?, ?, ?, ?)",
                (client.client_id, client.client_name, client.model_dump_json(), now),
            )

    # Sign-in requests

    def open_request(self, client_id: str, params: AuthorizationParams) -> str:
        """Keep an authorization request for the sign-in page; its id (a secret: it is the only way to it)."""
        request_id = secrets.token_urlsafe(32)
        now = int(time.time())
        with self._lock, _transaction(self._db):
            self._db.execute("DELETE FROM oauth_requests WHERE expires_at < ?", (now,))
            pending = int(self._db.execute("SELECT COUNT(*) FROM oauth_requests").fetchone()[0])
            if pending >= MAX_PENDING_REQUESTS:
                raise GrantError("too many sign-ins are waiting; try again in a few minutes")
            self._db.execute(
                "INSERT INTO oauth_requests (id_sha256, csrf_sha256, client_id, params, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (digest(request_id), "", client_id, params.model_dump_json(), now + REQUEST_LIFETIME_S),
            )
        return request_id

    def issue_csrf(self, request_id: str) -> str:
        """A fresh CSRF token for the sign-in form of this request (the last one issued is the one accepted)."""
        csrf = secrets.token_urlsafe(32)
        with self._lock, _transaction(self._db):
            self._db.execute(
                "UPDATE oauth_requests SET csrf_sha256 = ? WHERE id_sha256 = ?",
                (digest(csrf), digest(request_id)),
            )
        return csrf

    def request(self, request_id: str) -> PendingRequest | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM oauth_requests WHERE id_sha256 = ? AND expires_at >= ?",
                (digest(request_id), int(time.time())),
            ).fetchone()
        if row is None:
            return None
        params = AuthorizationParams.model_validate_json(row["params"])
        return PendingRequest(row["client_id"], params, row["csrf_sha256"], row["attempts"])

    def failed_attempt(self, request_id: str) -> int:
        """Count a wrong password against the request; the attempts it has left (0: it is gone)."""
        with self._lock, _transaction(self._db):
            self._db.execute(
                "UPDATE oauth_requests SET attempts = attempts + 1 WHERE id_sha256 = ?", (digest(request_id),)
            )
            row = self._db.execute(
                "SELECT attempts FROM oauth_requests WHERE id_sha256 = ?", (digest(request_id),)
            ).fetchone()
            left = 0 if row is None else MAX_SIGN_IN_ATTEMPTS - int(row["attempts"])
            if left <= 0:
                self._db.execute("DELETE FROM oauth_requests WHERE id_sha256 = ?", (digest(request_id),))
        return max(left, 0)

    def close_request(self, request_id: str) -> PendingRequest | None:
        """Take the request away (it is answered); None when it was already answered or has expired."""
        pending = self.request(request_id)
        with self._lock, _transaction(self._db):
            gone = self._db.execute("DELETE FROM oauth_requests WHERE id_sha256 = ?", (digest(request_id),))
        return pending if gone.rowcount == 1 else None

    # Authorization codes

    def issue_code(self, user_id: int, client_id: str, params: AuthorizationParams, resource: str) -> str:
        code = secrets.token_urlsafe(32)
        expires_at = int(time.time()) + CODE_LIFETIME_S
        details = AuthorizationCode(
            code="",
            scopes=params.scopes or [],
            expires_at=expires_at,
            client_id=client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=resource,
            subject=str(user_id),
        )
        with self._lock, _transaction(self._db):
            self._db.execute("DELETE FROM oauth_codes WHERE expires_at < ?", (int(time.time()),))
            self._db.execute(
                "INSERT INTO oauth_codes (code_sha256, user_id, client_id, details, expires_at) VALUES (?, ?, ?, ?, ?)",
                (digest(code), user_id, client_id, details.model_dump_json(), expires_at),
            )
        return code

    def code(self, code: str, client_id: str) -> AuthorizationCode | None:
        with self._lock:
            row = self._db.execute(
                "SELECT details FROM oauth_codes WHERE code_sha256 = ? AND client_id = ?",
                (digest(code), client_id),
            ).fetchone()
        if row is None:
            return None
        return AuthorizationCode.model_validate_json(row["details"]).model_copy(update={"code": code})

    def redeem_code(self, code: AuthorizationCode, scopes: list[str]) -> OAuthToken:
        """Trade a code for the tokens of a new grant, once: a second try finds no code."""
        if code.subject is None or code.resource is None:
            raise GrantError("this code names no user or resource")
        with self._lock, _transaction(self._db):
            taken = self._db.execute("DELETE FROM oauth_codes WHERE code_sha256 = ?", (digest(code.code),))
            if taken.rowcount != 1:
                raise GrantError("this code has been used already")
            now = int(time.time())
            cursor = self._db.execute(
                "INSERT INTO oauth_grants (user_id, client_id, resource, scopes, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (int(code.subject), code.client_id, code.resource, json.dumps(scopes), now, now),
            )
            return self._issue(int(cursor.lastrowid or 0), scopes, now)

    # Tokens

    def refresh_token(self, token: str, client_id: str) -> RefreshToken | None:
        row = self._token_row(token, "refresh")
        if row is None or row["client_id"] != client_id:
            return None
        return RefreshToken(
            token=token,
            client_id=row["client_id"],
            scopes=json.loads(row["scopes"]),
            expires_at=row["expires_at"],
            resource=row["resource"],
            subject=str(row["user_id"]),
        )

    def rotate(self, refresh: RefreshToken, scopes: list[str]) -> OAuthToken:
        """New access and refresh tokens for the refresh token's grant; the old pair stops working."""
        with self._lock, _transaction(self._db):
            row = self._db.execute(
                "SELECT grant_id FROM oauth_tokens WHERE token_sha256 = ? AND kind = 'refresh'",
                (digest(refresh.token),),
            ).fetchone()
            if row is None:
                raise GrantError("this refresh token has been used or revoked")
            grant_id = int(row["grant_id"])
            self._db.execute("DELETE FROM oauth_tokens WHERE grant_id = ?", (grant_id,))
            return self._issue(grant_id, scopes, int(time.time()))

    def access_token(self, token: str) -> AccessToken | None:
        """The live access token `token` is, with its user as `subject`; None when unknown, expired or revoked."""
        row = self._token_row(token, "access")
        if row is None:
            return None
        now = int(time.time())
        if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION_S:
            with self._lock, _transaction(self._db):
                self._db.execute(
                    "UPDATE oauth_grants SET last_used_at = ? WHERE id = ?", (now, row["grant_id"])
                )
        return AccessToken(
            token=token,
            client_id=row["client_id"],
            scopes=json.loads(row["scopes"]),
            expires_at=row["expires_at"],
            resource=row["resource"],
            subject=str(row["user_id"]),
        )

    def grant_of(self, token: str) -> int | None:
        """The grant an access or refresh token belongs to (None: unknown)."""
        with self._lock:
            row = self._db.execute(
                "SELECT grant_id FROM oauth_tokens WHERE token_sha256 = ?", (digest(token),)
            ).fetchone()
        return None if row is None else int(row["grant_id"])

    # Grants

    def grants(self) -> list[Grant]:
        """Every grant not revoked, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT g.*, u.name AS user_name, c.client_name FROM oauth_grants g"
                " JOIN users u ON u.id = g.user_id LEFT JOIN oauth_clients c ON c.client_id = g.client_id"
                " WHERE g.revoked_at IS NULL ORDER BY g.id"
            ).fetchall()
        return [
            Grant(
                r["id"],
                r["user_name"],
                r["client_id"],
                r["client_name"],
                r["resource"],
                tuple(json.loads(r["scopes"])),
                r["created_at"],
                r["last_used_at"],
                r["expires_at"],
            )
            for r in rows
        ]

    def revoke(self, grant_id: int) -> None:
        """Revoke a grant: its access and refresh tokens stop working now. GrantError when there is no such live
        grant."""
        with self._lock, _transaction(self._db):
            changed = self._db.execute(
                "UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (int(time.time()), grant_id),
            )
            if changed.rowcount != 1:
                raise GrantError(
                    f"there is no signed-in device {grant_id} (see `satchel workspace tokens list`)"
                )
            self._db.execute("DELETE FROM oauth_tokens WHERE grant_id = ?", (grant_id,))

    def _token_row(self, token: str, kind: str) -> sqlite3.Row | None:
        with self._lock:
            row = self._db.execute(
                "SELECT t.grant_id, t.expires_at, g.user_id, g.client_id, g.resource, g.scopes, g.last_used_at"
                " FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id"
                " WHERE t.token_sha256 = ? AND t.kind = ? AND g.revoked_at IS NULL AND t.expires_at >= ?",
                (digest(token), kind, int(time.time())),
            ).fetchone()
        return row  # type: ignore[no-any-return]

    def _issue(self, grant_id: int, scopes: list[str], now: int) -> OAuthToken:
        """Fresh tokens for a grant (inside the caller's transaction, under the lock)."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        refresh_expires = now + REFRESH_TOKEN_LIFETIME_S
        self._db.executemany(
            "INSERT INTO oauth_tokens (token_sha256, grant_id, kind, expires_at) VALUES (?, ?, ?, ?)",
            [
                (digest(access), grant_id, "access", now + ACCESS_TOKEN_LIFETIME_S),
                (digest(refresh), grant_id, "refresh", refresh_expires),
            ],
        )
        self._db.execute(
            "UPDATE oauth_grants SET scopes = ?, expires_at = ? WHERE id = ?",
            (json.dumps(scopes), refresh_expires, grant_id),
        )
        return OAuthToken(
            access_token=access,
            expires_in=ACCESS_TOKEN_LIFETIME_S,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )
