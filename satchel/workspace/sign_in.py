"""The sign-in and consent page of the workspace's authorization server: where `/authorize` sends the user.

Server-rendered HTML with no script and no inline style, under a CSP of its own that is stricter than the site's
(nothing loads; the form may only go to this origin and, after it, to the client's redirect URI). The form carries a
CSRF token that must also come back in a `SameSite=Strict` cookie set with the page (double submit), and the
request's `Origin`, when sent, must be the issuer's. A wrong name or password says so in one sentence, the same for
both; a request takes MAX_SIGN_IN_ATTEMPTS wrong passwords before it is dropped, and a name that failed
`SignInThrottle.max_failures` times in a row is refused for `lockout_s` seconds whatever request it comes with.
The body is read up to MAX_FORM_BYTES, never more.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import time
from collections import OrderedDict
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from satchel.workspace.accounts import AccountStore
from satchel.workspace.authorization import SIGN_IN_PATH
from satchel.workspace.grants import GrantStore, PendingRequest

MAX_FORM_BYTES = 16 * 1024
CSRF_COOKIE = "satchel-sign-in"


class SignInThrottle:
    """Consecutive failed sign-ins per user name, in memory: after `max_failures`, that name is refused for
    `lockout_s` seconds. At most `max_names` names are tracked (the oldest forgotten first)."""

    def __init__(self, *, max_failures: int = 5, lockout_s: float = 60.0, max_names: int = 10_000) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.max_names = max_names
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def locked(self, name: str) -> bool:
        failures, last = self._failures.get(name, (0, 0.0))
        if failures < self.max_failures:
            return False
        if time.monotonic() - last >= self.lockout_s:
            del self._failures[name]
            return False
        return True

    def failed(self, name: str) -> None:
        failures, _ = self._failures.pop(name, (0, 0.0))
        self._failures[name] = (failures + 1, time.monotonic())
        while len(self._failures) > self.max_names:
            self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)


def sign_in_routes(
    accounts: AccountStore, grants: GrantStore, *, issuer_url: str, throttle: SignInThrottle | None = None
) -> list[Route]:
    """GET and POST `SIGN_IN_PATH`."""
    issuer = urlsplit(issuer_url)
    issuer_origin = f"{issuer.scheme}://{issuer.netloc}"
    secure_cookie = issuer.scheme == "https"
    limiter = throttle or SignInThrottle()

    def page(
        request_id: str, pending: PendingRequest, *, error: str | None = None, status: int = 200
    ) -> Response:
        client = grants.client(pending.client_id)
        client_name = (client.client_name if client else None) or pending.client_id
        csrf = grants.issue_csrf(request_id)
        body = sign_in_html(request_id, csrf, client_name, pending, error)
        response = HTMLResponse(body, status, headers=_page_headers(pending))
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            max_age=600,
            path=SIGN_IN_PATH,
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
        )
        return response

    async def show(request: Request) -> Response:
        request_id = request.query_params.get("request", "")
        pending = grants.request(request_id)
        if pending is None:
            return message_page("This sign-in has expired or is finished: start it again from the app.", 404)
        return page(request_id, pending)

    async def answer(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != issuer_origin:
            return message_page("This form may only be sent from its own page.", 403)
        form = await _read_form(request)
        if form is None:
            return message_page(f"The form is larger than {MAX_FORM_BYTES} bytes.", 413)
        request_id = form.get("request", "")
        pending = grants.request(request_id)
        if pending is None:
            return message_page("This sign-in has expired or is finished: start it again from the app.", 400)
        csrf = form.get("csrf", "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (
            csrf
            and hmac.compare_digest(csrf, cookie)
            and hmac.compare_digest(hashlib.sha256(csrf.encode()).hexdigest(), pending.csrf_sha256)
        ):
            return message_page(
                "This form is out of date or was not sent from its page: open the sign-in again.", 403
            )
        params = pending.params
        if form.get("decision") == "deny":
            if grants.close_request(request_id) is None:
                return message_page(
                    "This sign-in has expired or is finished: start it again from the app.", 400
                )
            denied = construct_redirect_uri(
                str(params.redirect_uri),
                error="access_denied",
                error_description="The user did not allow it",
                state=params.state,
            )
            return RedirectResponse(denied, 303, headers={"Cache-Control": "no-store"})
        name, password = form.get("user", "").strip(), form.get("password", "")
        if limiter.locked(name):
            return page(
                request_id,
                pending,
                error=f"Too many failed sign-ins as this user: wait {int(limiter.lockout_s)} seconds and try again.",
                status=429,
            )
        user_id = await asyncio.to_thread(accounts.authenticate, name, password)
        if user_id is None:
            limiter.failed(name)
            left = grants.failed_attempt(request_id)
            if left == 0:
                return message_page("Too many wrong passwords: start the sign-in again from the app.", 400)
            return page(
                request_id,
                pending,
                error=f"Wrong user name or password ({left} {'try' if left == 1 else 'tries'} left).",
                status=400,
            )
        limiter.succeeded(name)
        if grants.close_request(request_id) is None:
            return message_page("This sign-in has expired or is finished: start it again from the app.", 400)
        resource = params.resource or ""
        code = grants.issue_code(user_id, pending.client_id, params, resource)
        back = construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)
        return RedirectResponse(back, 303, headers={"Cache-Control": "no-store"})

    return [
        Route(SIGN_IN_PATH, show, methods=["GET"]),
        Route(SIGN_IN_PATH, answer, methods=["POST"]),
    ]


async def _read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded form (first value of each field), or None when the body is over MAX_FORM_BYTES."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _page_headers(pending: PendingRequest) -> Mapping[str, str]:
    redirect = urlsplit(str(pending.params.redirect_uri))
    # Chromium applies form-action to the redirect that answers the form, so the client's origin is named too.
    form_action = f"'self' {redirect.scheme}://{redirect.netloc}" if redirect.netloc else "'self'"
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'none'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        # The site's `no-referrer` would make the browser send `Origin: null` with the form, and the origin is checked.
        "Referrer-Policy": "same-origin",
    }


def message_page(text: str, status: int) -> HTMLResponse:
    body = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workspace sign-in</title></head>
<body><main><h1>Workspace sign-in</h1><p id="message">{html.escape(text)}</p></main></body>
</html>
"""
    return HTMLResponse(
        body,
        status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; form-action 'none'; frame-ancestors 'none'",
        },
    )


def sign_in_html(
    request_id: str, csrf: str, client_name: str, pending: PendingRequest, error: str | None
) -> str:
    """The page: who asks for what, the name and password fields, Allow and Deny."""
    scopes = ", ".join(pending.params.scopes or [])
    resource = html.escape(pending.params.resource or "")
    back = urlsplit(str(pending.params.redirect_uri))
    # Registration is open, so the name is whatever the client chose: where the browser goes next is what to check.
    returns_to = html.escape(f"{back.scheme}://{back.netloc}")
    alert = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to the workspace</title></head>
<body>
<main>
<h1>Sign in to the workspace</h1>
<p><strong id="client-name">{html.escape(client_name)}</strong> asks to use your notes
(<span id="scopes">{html.escape(scopes)}</span>) on <span id="resource">{resource}</span>.
After signing in you go back to <strong id="returns-to">{returns_to}</strong>: sign in only if that is the app you
started from.</p>
{alert}
<form method="post" action="{SIGN_IN_PATH}">
<input type="hidden" name="request" value="{html.escape(request_id)}">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<p><label>User name <input name="user" autocomplete="username" required maxlength="64" autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" maxlength="1024"></label></p>
<p><button type="submit" name="decision" value="allow">Sign in and allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form>
</main>
</body>
</html>
"""
